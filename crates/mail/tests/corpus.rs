//! Every message of CPython's email test data through the SMTP receiver (Python smtplib):
//! each is archived byte-exact, and those that parse have a sender and text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use loket_core::MessageFlag;
use std::path::PathBuf;
use std::process::Command;

/// `Lib/test/test_email/data` of the machine's Python (pyenv) or Debian's
/// `libpython3.11-testsuite` (installed by ops/ci/install-mail.sh).
fn corpus_dir() -> PathBuf {
    for py in ["python3", "/usr/bin/python3"] {
        if let Ok(out) = Command::new(py)
            .args([
                "-c",
                "import test.test_email,os;print(os.path.dirname(test.test_email.__file__))",
            ])
            .output()
            && out.status.success()
        {
            let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("data");
            if d.is_dir() {
                return d;
            }
        }
    }
    let d = PathBuf::from("/usr/lib/python3.11/test/test_email/data");
    assert!(
        d.is_dir(),
        "CPython email test data not found: run ops/ci/install-mail.sh"
    );
    d
}

/// The files use LF; on the wire every line ends in CRLF (what any MTA sends).
fn wire_form(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 40);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpython_email_corpus_archived_byte_exact() {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("msg_") && n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 40, "corpus has {} messages", files.len());

    let m = Mail::start(Db::Sqlite, None).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    let mut wire_files = Vec::new();
    for f in &files {
        let wire = wire_form(&std::fs::read(f).unwrap());
        let p = tmp.path().join(f.file_name().unwrap());
        std::fs::write(&p, &wire).unwrap();
        expected.push((f.clone(), wire));
        wire_files.push(p);
    }
    let results = m
        .send_files("corpus@burger.example", &[INFO], &wire_files)
        .await;
    assert_eq!(results.len(), files.len(), "{results:?}");
    for r in &results {
        assert_eq!(r["code"], 250, "{r}");
    }

    let msgs = m.messages().await;
    let mut parsed = 0;
    for (file, wire) in &expected {
        let sha = loket_core::sha256_hex(wire);
        let msg = msgs
            .iter()
            .find(|x| x.raw_sha256 == sha)
            .unwrap_or_else(|| panic!("{} not archived with the same SHA-256", file.display()));
        assert_eq!(&m.raw(msg.id).await, wire, "{} byte-exact", file.display());
        let unparseable = msg
            .parse_warnings
            .iter()
            .any(|w| w.contains("could not be parsed"));
        if !unparseable {
            parsed += 1;
            assert!(
                !msg.from.address.trim().is_empty(),
                "{}: sender",
                file.display()
            );
            assert!(!msg.text.trim().is_empty(), "{}: text", file.display());
        } else {
            assert!(msg.has_flag(MessageFlag::ParseWarning));
        }
    }
    // Identical files collapse into one message (same key); count distinct originals.
    let mut shas: Vec<String> = expected
        .iter()
        .map(|(_, w)| loket_core::sha256_hex(w))
        .collect();
    shas.sort();
    shas.dedup();
    assert_eq!(msgs.len(), shas.len());
    assert!(
        parsed * 10 >= expected.len() * 9,
        "only {parsed} of {} parsed",
        expected.len()
    );
}
