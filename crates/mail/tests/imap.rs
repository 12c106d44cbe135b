//! IMAP poller against a real Dovecot started by the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use std::time::Duration;

fn mail(n: usize) -> Vec<u8> {
    format!(
        "From: Burger {n} <burger{n}@burger.example>\r\nTo: info@gemeente.example\r\n\
Subject: Vraag {n}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <imap-{n}@burger.example>\r\n\r\n\
Dit is vraag nummer {n}.\r\n"
    )
    .into_bytes()
}

async fn wait_count(m: &Mail, n: usize) {
    let store = m.store.clone();
    let tenant = m.tenant.id;
    wait_until(&format!("{n} messages"), Duration::from_secs(60), || {
        let store = store.clone();
        async move { messages(&store, tenant).await.len() >= n }
    })
    .await;
}

async fn imap_restart(db: Db) {
    let mut dovecot = Dovecot::start();
    let mut m = Mail::start(db, None).await;
    m.watch_mailboxes(serde_json::json!([dovecot.mailbox_setting()]))
        .await;

    // Appended mail appears in loket (picked up by the supervisor, then IDLE).
    dovecot.append(&mail(1));
    dovecot.append(&mail(2));
    wait_count(&m, 2).await;
    dovecot.append(&mail(3));
    wait_count(&m, 3).await;

    // Dovecot restarts mid-run; mail arrives around the restart.
    dovecot.append(&mail(4));
    dovecot.restart();
    dovecot.append(&mail(5));
    dovecot.append(&mail(6));
    wait_count(&m, 6).await;

    // loket restarts too: the UID cursor means nothing is fetched twice.
    m.stop().await;
    dovecot.append(&mail(7));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handles = loket_mail::spawn(m.store.clone(), m.cfg.clone(), rx)
        .await
        .unwrap();
    wait_count(&m, 7).await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let all = m.messages().await;
    assert_eq!(all.len(), 7, "nothing lost, nothing duplicated");
    for n in 1..=7 {
        let raw = mail(n);
        let found: Vec<_> = all
            .iter()
            .filter(|x| x.raw_sha256 == loket_core::sha256_hex(&raw))
            .collect();
        assert_eq!(found.len(), 1, "message {n} exactly once, byte-exact");
        assert_eq!(
            found[0].subject.as_deref(),
            Some(format!("Vraag {n}").as_str())
        );
    }
    // Processed mail is marked Seen in the mailbox (`after = "seen"`).
    assert_eq!(dovecot.unseen(), 0);
    let _ = tx.send(true);
    handles.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_appended_mail_appears_dovecot_restart_nothing_lost_or_duplicated_sqlite() {
    imap_restart(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_appended_mail_appears_dovecot_restart_nothing_lost_or_duplicated_postgres() {
    imap_restart(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_polls_without_idle_and_deletes_when_configured() {
    let dovecot = Dovecot::start_without_idle();
    let m = Mail::start(Db::Sqlite, None).await;
    let mut setting = dovecot.mailbox_setting();
    setting["after"] = serde_json::json!("delete");
    setting["poll_secs"] = serde_json::json!(1);
    m.watch_mailboxes(serde_json::json!([setting])).await;
    dovecot.append(&mail(1));
    wait_count(&m, 1).await;
    dovecot.append(&mail(2));
    dovecot.append(&mail(3));
    wait_count(&m, 3).await;
    let dovecot_ref = &dovecot;
    wait_until("mailbox emptied", Duration::from_secs(20), || async move {
        dovecot_ref.count() == 0
    })
    .await;
    assert_eq!(m.messages().await.len(), 3);
}

/// Mail that arrives while the poller is fetching a burst is archived at once,
/// not at the next poll interval (here 600 s, far beyond the test's timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_mail_arriving_during_a_burst_fetch_is_archived_without_waiting_for_the_poll() {
    let dovecot = Dovecot::start();
    let m = Mail::start(Db::Sqlite, None).await;
    let mut setting = dovecot.mailbox_setting();
    setting["poll_secs"] = serde_json::json!(600);
    m.watch_mailboxes(serde_json::json!([setting])).await;
    // The poller is connected and idle once the first message is archived.
    dovecot.append(&mail(0));
    wait_count(&m, 1).await;

    // A burst: the poller wakes on the first messages and is still fetching while the
    // rest arrive; then, while it works through them, a steady stream (a message every
    // 20 ms, about the poller's pace), so that messages keep arriving at every point of
    // its loop: during FETCH, between the last search and IDLE, while IDLE starts.
    let burst: Vec<Vec<u8>> = (1..=30).map(mail).collect();
    dovecot.append_many(&burst);
    wait_count(&m, 2).await;
    let stream: Vec<Vec<u8>> = (31..=61).map(mail).collect();
    dovecot.append_stream(&stream, 0.02);

    wait_count(&m, 62).await;
    let all = m.messages().await;
    assert_eq!(all.len(), 62, "every message once");
    assert!(
        all.iter()
            .any(|x| x.raw_sha256 == loket_core::sha256_hex(&mail(61))),
        "the message appended during the fetch is archived"
    );
}

/// A message archived while its `\Seen` flag could not be set (connection cut,
/// kill -9, or `after` switched from `none` to `seen`) is flagged after the next connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_seen_flags_are_reconciled_after_a_reconnect() {
    let dovecot = Dovecot::start();
    let mut m = Mail::start(Db::Sqlite, None).await;
    let mut setting = dovecot.mailbox_setting();
    setting["after"] = serde_json::json!("none");
    m.watch_mailboxes(serde_json::json!([setting.clone()]))
        .await;
    dovecot.append_many(&[mail(1), mail(2), mail(3)]);
    wait_count(&m, 3).await;
    assert_eq!(dovecot.unseen(), 3, "archived, but not flagged");

    // loket goes away; when it comes back the mailbox says `after = "seen"`. Nothing new
    // arrives, so only the reconciliation on connect can set the flags.
    m.stop().await;
    setting["after"] = serde_json::json!("seen");
    m.watch_mailboxes(serde_json::json!([setting])).await;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let handles = loket_mail::spawn(m.store.clone(), m.cfg.clone(), rx)
        .await
        .unwrap();
    let dovecot_ref = &dovecot;
    wait_until(
        "archived messages flagged Seen",
        Duration::from_secs(30),
        || async move { dovecot_ref.unseen() == 0 },
    )
    .await;
    assert_eq!(m.messages().await.len(), 3, "nothing fetched twice");
    let _ = tx.send(true);
    handles.join().await;
}
