//! SMTP ingest benchmark (ops/bench/mail/run.sh): N concurrent SMTP clients send M
//! messages of S bytes each to the receiver; every `250` means a durable commit. Reports
//! messages/s and the latency from the end of DATA (`.CRLF` written) to the `250`.
//!
//! `cargo run -p loket-mail --example smtp_bench -- [--db sqlite|<postgres url>]
//!   [--clients 10] [--messages 3000] [--size 51200]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use loket_core::Channel;
use loket_mail::MailConfig;
use loket_store::{Store, StoreOptions};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[path = "common/args.rs"]
mod args;
use args::arg;

async fn reply(r: &mut BufReader<TcpStream>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.expect("read") == 0 {
            return all;
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] == b' ' {
            return all;
        }
    }
}

fn message(client: usize, n: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Burger {client} <burger{client}@burger.example>\r\nTo: info@gemeente.example\r\n\
Subject: Bench {client}-{n}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <bench-{client}-{n}-{}@burger.example>\r\n\r\n",
        uuid_like(client, n)
    )
    .into_bytes();
    let line =
        b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n";
    while m.len() + line.len() < size {
        m.extend_from_slice(line);
    }
    m
}

fn uuid_like(client: usize, n: usize) -> String {
    format!("{:x}{:x}{}", client, n, std::process::id())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let db = arg("--db", "sqlite");
    let clients: usize = arg("--clients", "10").parse().expect("--clients");
    let total: usize = arg("--messages", "3000").parse().expect("--messages");
    let size: usize = arg("--size", "51200").parse().expect("--size");

    if std::env::args().any(|a| a == "--parse-only") {
        let msg = message(0, 0, size);
        let t = Instant::now();
        for _ in 0..1000 {
            let p = loket_mail::parse_email(msg.clone(), &loket_mail::Envelope::default());
            assert!(!p.inbound.text.is_empty());
        }
        println!(
            "parse_email: {:.3} ms per {size} B message",
            t.elapsed().as_secs_f64()
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let url = if db == "sqlite" {
        tmp.path().join("bench.db").display().to_string()
    } else {
        db.clone()
    };
    let store = Store::open(&url, StoreOptions::default())
        .await
        .expect("open store");
    let slug = format!("bench-{}", std::process::id());
    let tenant = store.create_tenant(&slug, "Bench").await.expect("tenant");
    store
        .set_channel_setting(
            tenant.id,
            Channel::Email,
            "domains",
            serde_json::json!(["gemeente.example"]),
        )
        .await
        .expect("setting");
    if std::env::args().any(|a| a == "--store-only") {
        // The store alone: the same messages, parsed up front, ingested by `clients` tasks.
        let t = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let store = store.clone();
            let tenant = tenant.id;
            tasks.push(tokio::spawn(async move {
                for n in 0..total / clients {
                    let p = loket_mail::parse_email(
                        message(c, n, size),
                        &loket_mail::Envelope::default(),
                    );
                    store.ingest(tenant, p.inbound).await.expect("ingest");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        println!(
            "store-only: {:.1} msg/s",
            total as f64 / t.elapsed().as_secs_f64()
        );
        return;
    }
    let cfg = MailConfig {
        bind: "127.0.0.1:0".into(),
        ..MailConfig::default()
    };
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let handles = loket_mail::spawn(store.clone(), cfg.clone(), rx)
        .await
        .expect("spawn");
    let addr = handles.smtp_local_addr().expect("addr");

    let per_client = total / clients;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        tasks.push(tokio::spawn(async move {
            let s = TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).expect("nodelay");
            let mut r = BufReader::new(s);
            assert!(reply(&mut r).await.starts_with("220"));
            r.get_mut().write_all(b"EHLO bench.example\r\n").await.expect("w");
            assert!(reply(&mut r).await.starts_with("250"));
            let mut lat = Vec::with_capacity(per_client);
            for n in 0..per_client {
                let msg = message(c, n, size);
                r.get_mut()
                    .write_all(b"MAIL FROM:<burger@burger.example>\r\nRCPT TO:<info@gemeente.example>\r\nDATA\r\n")
                    .await
                    .expect("w");
                assert!(reply(&mut r).await.starts_with("250"));
                assert!(reply(&mut r).await.starts_with("250"));
                assert!(reply(&mut r).await.starts_with("354"));
                r.get_mut().write_all(&msg).await.expect("w");
                r.get_mut().write_all(b".\r\n").await.expect("w");
                let t = Instant::now();
                let rep = reply(&mut r).await;
                lat.push(t.elapsed());
                assert!(rep.starts_with("250"), "{rep}");
            }
            let _ = r.get_mut().write_all(b"QUIT\r\n").await;
            lat
        }));
    }
    let mut lat: Vec<Duration> = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("client"));
    }
    let elapsed = started.elapsed();
    lat.sort();
    let pct = |p: f64| {
        lat[((lat.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(lat.len() - 1)]
    };
    let count = store.message_count(tenant.id).await.expect("count");
    assert_eq!(count as usize, lat.len(), "every 250 is a stored message");
    println!(
        "backend={} clients={clients} messages={} size={size}B elapsed={:.2}s rate={:.1} msg/s \
         latency end-of-DATA→250: p50={:.1}ms p90={:.1}ms p99={:.1}ms max={:.1}ms stored={count}",
        if db == "sqlite" { "sqlite" } else { "postgres" },
        lat.len(),
        elapsed.as_secs_f64(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3,
    );
}
