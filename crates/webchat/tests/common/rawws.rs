//! A minimal WebSocket client over a plain TCP stream, so tests can send what a browser
//! never would: invalid UTF-8, binary and oversized frames.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Close(Option<u16>),
    Ping,
    Pong,
}

impl RawWs {
    pub async fn connect(port: u16, path: &str) -> RawWs {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n"
        );
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let mut tmp = [0u8; 4096];
        loop {
            let n = stream.read(&mut tmp).await.unwrap();
            assert!(n > 0, "connection closed during the handshake");
            buf.extend_from_slice(&tmp[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                assert!(head.starts_with("HTTP/1.1 101"), "handshake: {head}");
                buf.drain(..end + 4);
                break;
            }
        }
        RawWs { stream, buf }
    }

    pub async fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut f = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            f.push(0x80 | len as u8);
        } else if len <= u16::MAX as usize {
            f.push(0x80 | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        // The peer may close before reading everything; that is what some tests expect.
        let _ = self.stream.write_all(&f).await;
    }

    pub async fn send_text(&mut self, s: &str) {
        self.send_frame(0x1, s.as_bytes()).await;
    }

    async fn fill(&mut self, n: usize) -> bool {
        let mut tmp = [0u8; 8192];
        while self.buf.len() < n {
            match self.stream.read(&mut tmp).await {
                Ok(0) | Err(_) => return false,
                Ok(k) => self.buf.extend_from_slice(&tmp[..k]),
            }
        }
        true
    }

    /// The next frame; `None` when the connection ended without a close frame.
    pub async fn recv(&mut self) -> Option<Frame> {
        if !self.fill(2).await {
            return None;
        }
        let opcode = self.buf[0] & 0x0f;
        let mut len = (self.buf[1] & 0x7f) as usize;
        let mut at = 2;
        if len == 126 {
            if !self.fill(4).await {
                return None;
            }
            len = u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize;
            at = 4;
        } else if len == 127 {
            if !self.fill(10).await {
                return None;
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.buf[2..10]);
            len = u64::from_be_bytes(b) as usize;
            at = 10;
        }
        if !self.fill(at + len).await {
            return None;
        }
        let payload: Vec<u8> = self.buf[at..at + len].to_vec();
        self.buf.drain(..at + len);
        Some(match opcode {
            0x1 => Frame::Text(String::from_utf8(payload).unwrap()),
            0x2 => Frame::Binary(payload),
            0x8 => Frame::Close(if payload.len() >= 2 {
                Some(u16::from_be_bytes([payload[0], payload[1]]))
            } else {
                None
            }),
            0x9 => Frame::Ping,
            _ => Frame::Pong,
        })
    }

    /// The next text frame as JSON (skipping pings); panics on anything else.
    pub async fn json(&mut self) -> serde_json::Value {
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(10), self.recv())
                .await
                .expect("no frame within 10 s")
            {
                Some(Frame::Text(t)) => return serde_json::from_str(&t).unwrap(),
                Some(Frame::Ping | Frame::Pong) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Waits for the close frame and returns its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(std::time::Duration::from_secs(10), self.recv())
                .await
                .expect("no close within 10 s")
            {
                Some(Frame::Close(code)) => return code,
                Some(_) => continue,
                None => return None,
            }
        }
    }
}
