#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The archive's contracts, each on SQLite and on PostgreSQL.

use diesel::Connection;
use diesel::connection::SimpleConnection;
use loket_core::*;
use loket_store::on_both;
use loket_store::testing::TestDb;
use loket_store::{Backend, OutboxKind, Store};
use std::collections::HashSet;

fn chat(key: &str, text: &str) -> Inbound {
    let mut m = Inbound::new(
        Channel::Webchat,
        Address::new("session:abc"),
        text,
        format!("{{\"id\":\"{key}\",\"text\":\"{text}\"}}").into_bytes(),
    );
    m.idempotency_key = Some(key.into());
    m.raw_content_type = "application/json".into();
    m
}

fn email(raw: &str) -> Inbound {
    let mut m = Inbound::new(
        Channel::Email,
        Address::new("burger@example.nl"),
        "body",
        raw.as_bytes().to_vec(),
    );
    m.raw_content_type = "message/rfc822".into();
    m.conversation = ConversationHint::Thread {
        references: vec![],
        token: None,
    };
    m
}

async fn tenant(store: &Store, slug: &str) -> Tenant {
    store
        .create_tenant(slug, "Gemeente Test")
        .await
        .expect("tenant")
}

on_both!(durable_settings, |db: TestDb| async move {
    let (a, b) = db.store.durability_settings().await.expect("settings");
    match db.backend {
        Backend::Sqlite => {
            assert_eq!(a.to_lowercase(), "wal");
            assert_eq!(b, "full");
        }
        Backend::Postgres => {
            assert_eq!(a, "on");
            assert_eq!(b, "on");
        }
    }
});

on_both!(
    same_provider_id_twice_is_one_message,
    |db: TestDb| async move {
        let t = tenant(&db.store, "utrecht").await;
        let first = db
            .store
            .ingest(t.id, chat("c-1", "Hallo"))
            .await
            .expect("first");
        let again = db
            .store
            .ingest(t.id, chat("c-1", "Hallo"))
            .await
            .expect("again");
        assert!(!first.duplicate);
        assert!(again.duplicate);
        assert_eq!(first.message_id, again.message_id);
        assert_eq!(db.store.message_count(t.id).await.expect("count"), 1);
        // Same key, other bytes: a new message flagged key_conflict, never dropped.
        let conflict = db
            .store
            .ingest(t.id, chat("c-1", "Anders"))
            .await
            .expect("conflict");
        assert!(conflict.key_conflict && !conflict.duplicate);
        let m = db
            .store
            .message(t.id, conflict.message_id)
            .await
            .expect("read")
            .expect("present");
        assert!(m.has_flag(MessageFlag::KeyConflict));
        assert_eq!(db.store.message_count(t.id).await.expect("count"), 2);
    }
);

on_both!(
    concurrent_duplicates_are_one_message,
    |db: TestDb| async move {
        let t = tenant(&db.store, "zwolle").await;
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                s.ingest(t.id, chat("same", "x")).await
            }));
        }
        let mut ids = HashSet::new();
        for task in tasks {
            ids.insert(task.await.expect("join").expect("ingest").message_id);
        }
        assert_eq!(ids.len(), 1);
        assert_eq!(db.store.message_count(t.id).await.expect("count"), 1);
    }
);

on_both!(email_is_keyed_on_its_bytes, |db: TestDb| async move {
    let t = tenant(&db.store, "delft").await;
    let raw = "Message-ID: <same@x>\r\nSubject: a\r\n\r\nOne\r\n";
    let other = "Message-ID: <same@x>\r\nSubject: a\r\n\r\nTwo\r\n";
    let a = db.store.ingest(t.id, email(raw)).await.expect("a");
    let b = db.store.ingest(t.id, email(other)).await.expect("b");
    let c = db.store.ingest(t.id, email(raw)).await.expect("c");
    assert_ne!(
        a.message_id, b.message_id,
        "same Message-ID, different bytes: two messages"
    );
    assert_eq!(a.message_id, c.message_id, "same bytes: one message");
    assert_eq!(
        db.store
            .raw_original(t.id, a.message_id)
            .await
            .expect("raw"),
        Some(raw.as_bytes().to_vec())
    );
});

on_both!(tenants_never_see_each_other, |db: TestDb| async move {
    let a = tenant(&db.store, "tenant-a").await;
    let b = tenant(&db.store, "tenant-b").await;
    let ma = db.store.ingest(a.id, chat("k", "voor A")).await.expect("a");
    // The same key in another tenant is another message.
    let mb = db.store.ingest(b.id, chat("k", "voor A")).await.expect("b");
    assert_ne!(ma.message_id, mb.message_id);
    assert!(
        db.store
            .message(b.id, ma.message_id)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        db.store
            .conversation(b.id, ma.conversation_id)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        db.store
            .conversation_messages(b.id, ma.conversation_id)
            .await
            .expect("read")
            .is_empty()
    );
    assert!(
        db.store
            .raw_original(b.id, ma.message_id)
            .await
            .expect("read")
            .is_none()
    );
    let principal_b = Principal::system(b.id, "test");
    let err = db
        .store
        .queue_outbound(&principal_b, ma.conversation_id, Outbound::text("hoi"))
        .await
        .expect_err("B cannot reply in A's conversation");
    assert!(matches!(err, loket_store::StoreError::NotFound { .. }));
    let ids_b = db
        .store
        .message_ids_page(b.id, None, 100)
        .await
        .expect("ids");
    assert_eq!(ids_b, vec![mb.message_id]);
});

on_both!(
    outbound_is_queued_and_status_appended,
    |db: TestDb| async move {
        let t = tenant(&db.store, "leiden").await;
        let m = db
            .store
            .ingest(t.id, chat("c-9", "Vraag"))
            .await
            .expect("in");
        let p = Principal::system(t.id, "clerk");
        let r = db
            .store
            .queue_outbound(&p, m.conversation_id, Outbound::text("Antwoord"))
            .await
            .expect("out");
        let msg = db
            .store
            .message(t.id, r.message_id)
            .await
            .expect("read")
            .expect("present");
        assert_eq!(msg.direction, Direction::Outbound);
        assert_eq!(msg.status, Some(DeliveryStatus::Queued));
        assert_eq!(msg.to[0].address, "session:abc");
        db.store
            .append_message_status(
                t.id,
                r.message_id,
                DeliveryStatus::Delivered,
                None,
                Some(b"wire".to_vec()),
            )
            .await
            .expect("status");
        let msg = db
            .store
            .message(t.id, r.message_id)
            .await
            .expect("read")
            .expect("present");
        assert_eq!(msg.status, Some(DeliveryStatus::Delivered));
        let kinds: Vec<OutboxKind> = db
            .store
            .read_outbox(0, 100)
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(kinds.ends_with(&[
            OutboxKind::MessageIngested,
            OutboxKind::OutboundQueued,
            OutboxKind::StatusChanged
        ]));
        let conv = db
            .store
            .conversation_messages(t.id, m.conversation_id)
            .await
            .expect("conv");
        assert_eq!(conv.len(), 2);
        assert!(db.store.verify().await.expect("verify").ok());
    }
);

on_both!(
    messages_cannot_be_updated_in_place,
    |db: TestDb| async move {
        let t = tenant(&db.store, "breda").await;
        db.store.ingest(t.id, chat("c-2", "x")).await.expect("in");
        let r = raw_exec(&db, "UPDATE messages SET body_text = 'changed'");
        assert!(r.is_err(), "the append-only trigger must refuse the update");
        let r = raw_exec(&db, "DELETE FROM audit_events");
        assert!(r.is_err(), "audit events cannot be deleted");
    }
);

fn raw_exec(db: &TestDb, sql: &str) -> Result<(), diesel::result::Error> {
    match db.backend {
        Backend::Sqlite => {
            let mut c = diesel::sqlite::SqliteConnection::establish(&db.url).expect("connect");
            c.batch_execute(sql)
        }
        Backend::Postgres => {
            let mut c = diesel::pg::PgConnection::establish(&db.url).expect("connect");
            c.batch_execute(sql)
        }
    }
}

/// Tampering as an attacker with database access would do it: triggers off, then edit.
fn tamper(db: &TestDb, sql: &str) {
    let wrapped = match db.backend {
        Backend::Sqlite => format!(
            "DROP TRIGGER IF EXISTS blobs_no_update; DROP TRIGGER IF EXISTS messages_no_update;
             DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete; {sql}"
        ),
        Backend::Postgres => format!(
            "DROP TRIGGER IF EXISTS blobs_append_only ON blobs; DROP TRIGGER IF EXISTS messages_append_only ON messages;
             DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events; {sql}"
        ),
    };
    raw_exec(db, &wrapped).expect("tamper");
}

on_both!(verify_names_a_changed_original, |db: TestDb| async move {
    let t = tenant(&db.store, "gouda").await;
    let m = db
        .store
        .ingest(t.id, email("Subject: x\r\n\r\nOrigineel\r\n"))
        .await
        .expect("in");
    assert!(db.store.verify().await.expect("verify").ok());
    let msg = db
        .store
        .message(t.id, m.message_id)
        .await
        .expect("r")
        .expect("p");
    let hexed = hex::encode(b"Subject: x\r\n\r\nVervalst!\r\n");
    let blob_literal = format!(
        "{}'{hexed}'",
        if db.backend == Backend::Sqlite {
            "X"
        } else {
            "'\\x"
        }
    );
    let blob_literal = if db.backend == Backend::Postgres {
        format!("decode('{hexed}', 'hex')")
    } else {
        blob_literal
    };
    tamper(
        &db,
        &format!(
            "UPDATE blobs SET data = {blob_literal} WHERE sha256 = '{}'",
            msg.raw_sha256
        ),
    );
    let report = db.store.verify().await.expect("verify");
    assert!(!report.ok());
    let text: Vec<String> = report.faults.iter().map(|f| f.to_string()).collect();
    assert!(
        text.iter()
            .any(|f| f.contains(&msg.raw_sha256) && f.contains("changed")),
        "{text:?}"
    );
});

on_both!(
    verify_catches_original_and_hash_edited_together,
    |db: TestDb| async move {
        let t = tenant(&db.store, "assen").await;
        let m = db
            .store
            .ingest(t.id, email("Subject: y\r\n\r\nA\r\n"))
            .await
            .expect("in");
        let fake = "Subject: y\r\n\r\nB\r\n";
        let fake_sha = sha256_hex(fake.as_bytes());
        let data = if db.backend == Backend::Sqlite {
            format!("X'{}'", hex::encode(fake))
        } else {
            format!("decode('{}', 'hex')", hex::encode(fake))
        };
        tamper(
        &db,
        &format!(
            "INSERT INTO blobs (tenant_id, sha256, size, data) VALUES ('{}', '{fake_sha}', {}, {data});
             UPDATE messages SET raw_sha256 = '{fake_sha}' WHERE id = '{}';",
            t.id, fake.len(), m.message_id
        ),
    );
        let report = db.store.verify().await.expect("verify");
        let text: Vec<String> = report.faults.iter().map(|f| f.to_string()).collect();
        assert!(
            text.iter().any(|f| f.contains(&m.message_id.to_string())
                && f.contains("recorded in the audit chain")),
            "{text:?}"
        );
    }
);

on_both!(
    verify_names_a_changed_audit_row_and_a_deleted_tail,
    |db: TestDb| async move {
        let t = tenant(&db.store, "venlo").await;
        for i in 0..5 {
            db.store
                .ingest(t.id, chat(&format!("k{i}"), "x"))
                .await
                .expect("in");
        }
        tamper(
            &db,
            "UPDATE audit_events SET actor = 'system:someone-else' WHERE seq = 3",
        );
        let report = db.store.verify().await.expect("verify");
        let text: Vec<String> = report.faults.iter().map(|f| f.to_string()).collect();
        assert!(
            text.iter()
                .any(|f| f.contains("event 3") && f.contains("changed")),
            "{text:?}"
        );

        let t2 = tenant(&db.store, "venray").await;
        for i in 0..4 {
            db.store
                .ingest(t2.id, chat(&format!("k{i}"), "x"))
                .await
                .expect("in");
        }
        tamper(
            &db,
            &format!(
                "DELETE FROM audit_events WHERE tenant_id = '{}' AND seq = 5",
                t2.id
            ),
        );
        let report = db.store.verify().await.expect("verify");
        let text: Vec<String> = report.faults.iter().map(|f| f.to_string()).collect();
        assert!(
            text.iter()
                .any(|f| f.contains(&t2.id.to_string()) && f.contains("tail was deleted")),
            "{text:?}"
        );
    }
);

on_both!(
    audit_chain_records_reads_and_verifies,
    |db: TestDb| async move {
        let t = tenant(&db.store, "ede").await;
        let m = db.store.ingest(t.id, chat("k", "x")).await.expect("in");
        let person = Principal {
            tenant: t.id,
            role: Role::Clerk,
            actor: Actor::User {
                id: "u1".into(),
                name: "Clerk".into(),
            },
        };
        db.store
            .audit(
                &person,
                AuditAction::ConversationViewed,
                AuditSubject::new("conversation", m.conversation_id),
                serde_json::json!({}),
            )
            .await
            .expect("audit");
        let events = db
            .store
            .audit_events(
                t.id,
                loket_store::audit::AuditQuery {
                    action: Some("conversation_viewed".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].actor, "user:u1");
        assert!(db.store.verify().await.expect("verify").ok());
    }
);

on_both!(
    outbox_is_gap_free_under_concurrent_ingest,
    |db: TestDb| async move {
        let t = tenant(&db.store, "almere").await;
        // A second, independent store handle on the same database plays a second node.
        let other = Store::open(&db.url, loket_store::StoreOptions::default())
            .await
            .expect("second node");
        let mut watcher_seen = Vec::new();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let s = if i % 2 == 0 {
                db.store.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                s.ingest(t.id, chat(&format!("m{i}"), "x")).await
            }));
        }
        // A consumer polling while writes happen must never see a later seq before an earlier one.
        let reader = db.store.clone();
        let poll = tokio::spawn(async move {
            let mut cursor = 0i64;
            let mut seen = Vec::new();
            for _ in 0..400 {
                for e in reader.read_outbox(cursor, 1000).await.expect("outbox") {
                    assert_eq!(
                        e.seq,
                        cursor + 1,
                        "a consumer must never skip a sequence number"
                    );
                    cursor = e.seq;
                    seen.push(e.seq);
                }
                if seen.len() >= 201 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            seen
        });
        for task in tasks {
            task.await.expect("join").expect("ingest");
        }
        watcher_seen.extend(poll.await.expect("poll"));
        let all = db.store.read_outbox(0, 10_000).await.expect("outbox");
        let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        assert_eq!(
            all.iter()
                .filter(|e| e.kind == OutboxKind::MessageIngested)
                .count(),
            200
        );
        assert!(db.store.verify().await.expect("verify").ok());
    }
);

on_both!(cursors_survive_reopen, |db: TestDb| async move {
    db.store.save_cursor("indexer", 42).await.expect("save");
    let reopened = Store::open(&db.url, loket_store::StoreOptions::default())
        .await
        .expect("reopen");
    assert_eq!(reopened.cursor("indexer").await.expect("cursor"), 42);
    assert_eq!(reopened.cursor("never-ran").await.expect("cursor"), 0);
});

on_both!(
    jsonl_round_trip_is_byte_identical,
    |db: TestDb| async move {
        let t = tenant(&db.store, "arnhem").await;
        let mut m = email("From: a@b\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody e\r\n");
        m.raw.push(0xff); // not UTF-8: the original is kept as bytes
        m.attachments.push(NewAttachment {
            filename: Some("a.pdf".into()),
            content_type: "application/pdf".into(),
            content_id: None,
            data: b"%PDF-1.4 x".to_vec(),
        });
        m.flags.push(MessageFlag::AutoReply);
        let a = db.store.ingest(t.id, m).await.expect("in");
        db.store
            .ingest(t.id, chat("c1", "Hallo \"daar\""))
            .await
            .expect("in");
        let r = db
            .store
            .queue_outbound(
                &Principal::system(t.id, "clerk"),
                a.conversation_id,
                Outbound::text("Antwoord"),
            )
            .await
            .expect("out");
        db.store
            .append_message_status(
                t.id,
                r.message_id,
                DeliveryStatus::Sent,
                Some("250 ok".into()),
                Some(b"MIME bytes".to_vec()),
            )
            .await
            .expect("st");
        let first = export(&db.store).await;
        assert_eq!(first.lines().count(), 3);

        let empty = match db.backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
        .expect("empty db");
        let report = empty
            .store
            .import_jsonl(
                lines_source(first.clone()),
                loket_store::jsonl::ImportOptions {
                    create_tenants: true,
                    ..Default::default()
                },
            )
            .await
            .expect("import")
            .expect("valid file");
        assert_eq!(report.imported, 3);
        let second = export(&empty.store).await;
        assert_eq!(
            first, second,
            "export → import → export must be byte-identical"
        );
        assert!(empty.store.verify().await.expect("verify").ok());
    }
);

/// A conversation's summary time (the inbox order), if the conversation exists.
async fn last_message_at(
    store: &Store,
    tenant: TenantId,
    conversation: ConversationId,
) -> Option<loket_core::Timestamp> {
    store
        .conversation(tenant, conversation)
        .await
        .expect("read")
        .map(|c| c.last_message_at)
}

async fn export(store: &Store) -> String {
    export_tenants(store, None).await
}

async fn export_of(store: &Store, tenant: TenantId) -> String {
    export_tenants(store, Some(tenant)).await
}

async fn export_tenants(store: &Store, tenant: Option<TenantId>) -> String {
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    store
        .export_jsonl(tenant, Box::new(W(buf.clone())))
        .await
        .expect("export");
    let bytes = buf.lock().expect("lock").clone();
    String::from_utf8(bytes).expect("utf8")
}

on_both!(
    bad_import_lines_reject_the_file_with_line_numbers,
    |db: TestDb| async move {
        let t = tenant(&db.store, "hoorn").await;
        db.store.ingest(t.id, chat("c1", "x")).await.expect("in");
        let good = export(&db.store).await;
        let good_line = good.lines().next().expect("line").to_owned();
        let other_id = good_line.replace(
            &db.store.message_ids_page(t.id, None, 1).await.expect("ids")[0].to_string(),
            &MessageId::new().to_string(),
        );
        let bad_b64 = other_id.replacen("\"raw\":\"", "\"raw\":\"!!!", 1);
        let lines = vec![
            other_id.clone(),
            "{not json".to_owned(),
            bad_b64,
            r#"{"v":1}"#.to_owned(),
            other_id,
        ];
        let before = db.store.message_count(t.id).await.expect("count");
        let errors = db
            .store
            .import_jsonl(
                move || Ok(Box::new(lines.clone().into_iter().map(Ok))),
                Default::default(),
            )
            .await
            .expect("import ran")
            .expect_err("file must be rejected");
        let numbers: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(numbers, vec![2, 3, 4]);
        assert!(errors[1].message.contains("base64"), "{errors:?}");
        assert_eq!(
            db.store.message_count(t.id).await.expect("count"),
            before,
            "nothing of a bad file is imported"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lines_of_a_long_file_are_reported_in_line_order() {
    // Long enough to be validated in several chunks on several threads: the report must
    // still list every bad line in file order, and nothing may be imported.
    let db = TestDb::sqlite().await.expect("sqlite");
    let t = tenant(&db.store, "urk").await;
    db.store.ingest(t.id, chat("c1", "x")).await.expect("in");
    let good = export(&db.store)
        .await
        .lines()
        .next()
        .expect("line")
        .to_owned();
    let unknown_tenant = good.replacen("\"tenant\":\"urk\"", "\"tenant\":\"nergens\"", 1);
    assert_ne!(unknown_tenant, good);
    let bad_at = [1usize, 2500, 3001, 4100, 7000];
    let lines: Vec<String> = (1..=7000)
        .map(|n| match n {
            3001 => unknown_tenant.clone(),
            n if bad_at.contains(&n) => format!("{{broken {n}"),
            _ => good.clone(),
        })
        .collect();
    let errors = db
        .store
        .import_jsonl(lines_source(lines.join("\n")), Default::default())
        .await
        .expect("import ran")
        .expect_err("file must be rejected");
    let numbers: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(numbers, bad_at.to_vec());
    assert!(
        errors[2].message.contains("tenant `nergens` not found"),
        "{errors:?}"
    );
    assert_eq!(db.store.message_count(t.id).await.expect("count"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_named_by_an_import_are_created_in_order_of_first_mention() {
    let source = TestDb::sqlite().await.expect("sqlite");
    let mut exported = Vec::new();
    for slug in ["urk", "ens"] {
        let t = tenant(&source.store, slug).await;
        source
            .store
            .ingest(t.id, chat("c1", "x"))
            .await
            .expect("in");
        let line = export_of(&source.store, t.id)
            .await
            .lines()
            .next()
            .expect("line")
            .to_owned();
        exported.push((slug, line));
    }
    let renamed = |(slug, line): &(&str, String), to: &str| {
        line.replacen(
            &format!("\"tenant\":\"{slug}\""),
            &format!("\"tenant\":\"{to}\""),
            1,
        )
    };
    // `zuid` is named first, far from the start, then `noord`, then `zuid` again.
    let mut lines = vec![String::new(); 6000];
    lines[4500] = renamed(&exported[0], "zuid");
    lines[5200] = renamed(&exported[1], "noord");
    lines[5900] = renamed(&exported[0], "zuid");
    let target = TestDb::sqlite().await.expect("sqlite");
    let report = target
        .store
        .import_jsonl(
            lines_source(lines.join("\n")),
            loket_store::jsonl::ImportOptions {
                create_tenants: true,
                ..Default::default()
            },
        )
        .await
        .expect("import ran")
        .expect("file is valid");
    assert_eq!(report.lines, 3, "blank lines are not counted");
    assert_eq!((report.imported, report.already_present), (2, 1));
    assert_eq!(
        report.tenants_created,
        vec!["zuid".to_owned(), "noord".to_owned()]
    );
}

#[derive(diesel::QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = diesel::sql_types::Text)]
    compile_options: String,
}

#[tokio::test]
async fn sqlite_is_built_with_the_project_compile_options() {
    // `.cargo/config.toml` sets them; a build that lost them would still pass every
    // other test, only slower (and with the mutexes multi-thread mode leaves out).
    let db = TestDb::sqlite().await.expect("sqlite");
    let url = db.url.clone();
    let options: Vec<String> = tokio::task::spawn_blocking(move || {
        let mut c = diesel::sqlite::SqliteConnection::establish(&url).expect("connect");
        diesel::RunQueryDsl::load::<CompileOption>(
            diesel::sql_query("PRAGMA compile_options"),
            &mut c,
        )
        .expect("compile options")
        .into_iter()
        .map(|o| o.compile_options)
        .collect()
    })
    .await
    .expect("join");
    for wanted in [
        "THREADSAFE=2",
        "DEFAULT_MEMSTATUS=0",
        "OMIT_SHARED_CACHE",
        "USE_ALLOCA",
    ] {
        assert!(
            options.iter().any(|o| o == wanted),
            "{wanted} not in {options:?}"
        );
    }
}

#[tokio::test]
async fn migrations_up_down_up_on_both_backends() {
    for db in [
        TestDb::sqlite().await.expect("sqlite"),
        TestDb::postgres().await.expect("pg"),
    ] {
        let url = db.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = loket_store::conn::establish(&url).expect("connect");
            assert!(loket_store::conn::migrations_current(&mut c).expect("status"));
            let down = loket_store::conn::revert_all_migrations(&mut c).expect("down");
            assert!(!down.is_empty());
            assert!(!loket_store::conn::migrations_current(&mut c).expect("status"));
            let up = loket_store::conn::run_migrations(&mut c).expect("up");
            assert_eq!(up.len(), down.len());
            assert!(loket_store::conn::migrations_current(&mut c).expect("status"));
        })
        .await
        .expect("join");
        assert!(db.store.ready().await.expect("ready"));
    }
}

/// The calls `loket migrate [--down-all]` makes: every migration down, then up again.
#[tokio::test]
async fn store_migrate_and_revert_all_on_both_backends() {
    for db in [
        TestDb::sqlite().await.expect("sqlite"),
        TestDb::postgres().await.expect("pg"),
    ] {
        assert!(Store::migrate(&db.url).await.expect("up").is_empty());
        let down = Store::revert_all(&db.url).await.expect("down");
        assert!(!down.is_empty());
        assert!(!db.store.ready().await.expect("status"));
        let up = Store::migrate(&db.url).await.expect("up");
        assert_eq!(up.len(), down.len());
        assert!(db.store.ready().await.expect("ready"));
    }
}

on_both!(
    the_last_migration_down_and_up_keeps_outbox_and_audit_chain,
    |db: TestDb| async move {
        // The latest migration rebuilds the outbox and audit tables on SQLite: their rows,
        // the chain over them and the next sequence numbers must survive it both ways.
        let t = tenant(&db.store, "deventer").await;
        for i in 0..3 {
            let m = chat(&format!("m{i}"), &format!("bericht {i}"));
            db.store.ingest(t.id, m).await.expect("ingest");
        }
        let outbox = db.store.read_outbox(0, 100).await.expect("outbox");
        let chain = |events: Vec<AuditEvent>| -> Vec<(i64, String, String)> {
            events
                .into_iter()
                .map(|e| (e.seq, e.id.to_string(), e.hash))
                .collect()
        };
        let query = loket_store::audit::AuditQuery {
            limit: 100,
            ..Default::default()
        };
        let audit = chain(
            db.store
                .audit_events(t.id, query.clone())
                .await
                .expect("audit"),
        );
        assert_eq!(outbox.len(), 3);
        assert!(audit.len() >= 3, "{audit:?}");

        let url = db.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = loket_store::conn::establish(&url).expect("connect");
            let reverted = loket_store::conn::revert_last_migration(&mut c).expect("down");
            assert_eq!(
                loket_store::conn::run_migrations(&mut c).expect("up"),
                vec![reverted]
            );
        })
        .await
        .expect("join");

        assert_eq!(db.store.read_outbox(0, 100).await.expect("outbox"), outbox);
        assert_eq!(
            chain(
                db.store
                    .audit_events(t.id, query.clone())
                    .await
                    .expect("audit")
            ),
            audit
        );
        let later = db
            .store
            .ingest(t.id, chat("m3", "na de migratie"))
            .await
            .expect("ingest after");
        assert_eq!(later.seq, Some(outbox[2].seq + 1), "the sequence goes on");
        let report = db.store.verify().await.expect("verify");
        assert!(report.ok(), "{:?}", report.faults);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_leaves_no_large_wal_file_behind() {
    // One import batch of ~100 MiB (48 messages of 1 MiB text, stored as text and as the
    // original) grows the WAL file past 100 MiB; once the import is done the file must
    // have been given back, not left at the batch's size.
    let source = TestDb::sqlite().await.expect("sqlite");
    let t = tenant(&source.store, "almere").await;
    let text = "woo ".repeat(256 * 1024);
    for i in 0..48 {
        let m = chat(&format!("groot-{i}"), &text);
        source.store.ingest(t.id, m).await.expect("ingest");
    }
    let file = export(&source.store).await;
    assert!(file.len() > 100 << 20, "the file is {} bytes", file.len());

    let target = TestDb::sqlite().await.expect("sqlite");
    let report = target
        .store
        .import_jsonl(
            lines_source(file),
            loket_store::jsonl::ImportOptions {
                create_tenants: true,
                ..Default::default()
            },
        )
        .await
        .expect("import ran")
        .expect("file is valid");
    target.store.truncate_wal().await; // as `loket import` does when done
    assert_eq!(report.imported, 48);
    let wal = std::path::PathBuf::from(format!("{}-wal", target.url));
    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(size < 1 << 20, "{} is {size} bytes", wal.display());
}

fn lines_source(
    text: String,
) -> impl Fn() -> loket_store::Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>> {
    move || {
        Ok(Box::new(
            text.lines()
                .map(|l| Ok(l.to_owned()))
                .collect::<Vec<_>>()
                .into_iter(),
        ))
    }
}

on_both!(
    import_across_batches_skips_what_is_present_and_keeps_conversations_current,
    |db: TestDb| async move {
        let t = tenant(&db.store, "zwolle").await;
        // Two conversations of three messages each, interleaved, so every batch of two
        // touches conversations created by an earlier batch.
        for i in 0..3 {
            let mut a = chat(&format!("a{i}"), &format!("eerste {i}"));
            a.from = Address::new("session:a");
            db.store.ingest(t.id, a).await.expect("in");
            let mut b = chat(&format!("b{i}"), &format!("tweede {i}"));
            b.from = Address::new("session:b");
            db.store.ingest(t.id, b).await.expect("in");
        }
        let first = export(&db.store).await;
        let one_line = first.lines().next().expect("line").to_owned();
        // The same line twice in one file: one message.
        let doubled = format!("{first}{one_line}\n");

        let empty = match db.backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
        .expect("empty db");
        let opts = || loket_store::jsonl::ImportOptions {
            create_tenants: true,
            batch_size: 2,
            ..Default::default()
        };
        let report = empty
            .store
            .import_jsonl(lines_source(doubled), opts())
            .await
            .expect("import")
            .expect("valid file");
        assert_eq!((report.imported, report.already_present), (6, 1));
        // A rerun (an interrupted import completed) writes nothing twice.
        let again = empty
            .store
            .import_jsonl(lines_source(first.clone()), opts())
            .await
            .expect("import")
            .expect("valid file");
        assert_eq!((again.imported, again.already_present), (0, 6));
        assert_eq!(export(&empty.store).await, first);
        // Each conversation's summary shows its latest message, as in the source.
        let imported = empty
            .store
            .tenant_by_slug("zwolle")
            .await
            .expect("tenant")
            .expect("created");
        let mut conversation_ids: Vec<ConversationId> = first
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json");
                v["conversation_id"]
                    .as_str()
                    .expect("id")
                    .parse()
                    .expect("uuid")
            })
            .collect();
        conversation_ids.sort();
        conversation_ids.dedup();
        assert_eq!(conversation_ids.len(), 2);
        for cid in conversation_ids {
            assert_eq!(
                last_message_at(&empty.store, imported.id, cid).await,
                last_message_at(&db.store, t.id, cid).await
            );
        }
        assert!(empty.store.verify().await.expect("verify").ok());

        // A conversation id that belongs to another tenant is refused, nothing written.
        let other = tenant(&empty.store, "kampen").await;
        let first_id = serde_json::from_str::<serde_json::Value>(&one_line).expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let stolen = one_line
            .replace("\"tenant\":\"zwolle\"", "\"tenant\":\"kampen\"")
            .replace(
                &format!("\"id\":\"{first_id}\""),
                &format!("\"id\":\"{}\"", MessageId::new()),
            )
            .replace("\"idempotency_key\":\"a0\"", "\"idempotency_key\":\"x0\"");
        // An import batch runs in a transaction of its own: the refused batch takes none
        // of the writes submitted alongside it down with it, and the writer goes on.
        let alongside = async {
            let mut ok = 0;
            for i in 0..20 {
                let key = format!("alongside-{i}");
                if empty
                    .store
                    .ingest(other.id, chat(&key, "tegelijk"))
                    .await
                    .is_ok()
                {
                    ok += 1;
                }
            }
            ok
        };
        let (refused, alongside_ok) = tokio::join!(
            empty.store.import_jsonl(lines_source(stolen), opts()),
            alongside
        );
        assert!(refused.is_err(), "{refused:?}");
        assert_eq!(alongside_ok, 20);
        assert_eq!(
            empty.store.message_count(other.id).await.expect("count"),
            20
        );
        assert!(empty.store.verify().await.expect("verify").ok());
    }
);

on_both!(
    rerun_of_an_interrupted_import_brings_conversation_summaries_up_to_date,
    |db: TestDb| async move {
        // Source: conversation A (a0, a1), then conversation B (b0).
        let t = tenant(&db.store, "zwolle").await;
        let mut ingested = Vec::new();
        for (key, from) in [
            ("a0", "session:a"),
            ("a1", "session:a"),
            ("b0", "session:b"),
        ] {
            let mut m = chat(key, "bericht");
            m.from = Address::new(from);
            ingested.push(db.store.ingest(t.id, m).await.expect("in"));
        }
        let conversation_a = ingested[0].conversation_id;
        assert_eq!(ingested[1].conversation_id, conversation_a);
        let source = export(&db.store).await;
        let want = last_message_at(&db.store, t.id, conversation_a).await;
        assert!(want.is_some());

        // The first run commits a0 and a1 (a batch each), then fails on b0, whose
        // conversation id belongs to another tenant: it ends before the conversation
        // summaries are brought up to date.
        let empty = match db.backend {
            Backend::Sqlite => TestDb::sqlite().await,
            Backend::Postgres => TestDb::postgres().await,
        }
        .expect("empty db");
        let kampen = tenant(&empty.store, "kampen").await;
        let foreign = empty
            .store
            .ingest(kampen.id, chat("k0", "elders"))
            .await
            .expect("in")
            .conversation_id;
        let lines: Vec<&str> = source.lines().collect();
        assert_eq!(lines.len(), 3);
        let b_conversation = ingested[2].conversation_id.to_string();
        let broken = format!(
            "{}\n{}\n{}\n",
            lines[0],
            lines[1],
            lines[2].replace(&b_conversation, &foreign.to_string())
        );
        let opts = || loket_store::jsonl::ImportOptions {
            create_tenants: true,
            batch_size: 1,
            ..Default::default()
        };
        let failed = empty.store.import_jsonl(lines_source(broken), opts()).await;
        assert!(failed.is_err(), "{failed:?}");

        // The rerun finds a0 and a1 present and imports b0; conversation A, which only
        // lines already present name, still gets its summary brought up to date.
        let report = empty
            .store
            .import_jsonl(lines_source(source.clone()), opts())
            .await
            .expect("import")
            .expect("valid file");
        assert_eq!((report.imported, report.already_present), (1, 2));
        let zwolle = empty
            .store
            .tenant_by_slug("zwolle")
            .await
            .expect("tenant")
            .expect("created");
        assert_eq!(
            last_message_at(&empty.store, zwolle.id, conversation_a).await,
            want
        );
        assert_eq!(export_of(&empty.store, zwolle.id).await, source);
    }
);

/// The tenant of the principal behind `secret`, if the store accepts the token.
async fn token_tenant(store: &Store, secret: &str) -> Option<TenantId> {
    let principal = store.principal_for_token(secret).await.expect("lookup");
    principal.map(|p| p.tenant)
}

on_both!(
    revoked_token_refused_once_the_cache_entry_expires,
    |db: TestDb| async move {
        let t = tenant(&db.store, "ede").await;
        let new = db
            .store
            .create_token(t.id, "koppeling", Role::Admin)
            .await
            .expect("token");
        assert_eq!(token_tenant(&db.store, &new.secret).await, Some(t.id));
        // Unknown tokens are never cached: each lookup asks the database.
        for _ in 0..2 {
            assert_eq!(token_tenant(&db.store, "lkt_unknown").await, None);
        }
        // Revoked behind the process's back (another process, or by hand): still trusted
        // from the cache for at most TOKEN_CACHE_TTL, refused after that.
        raw_exec(&db, "UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP").expect("revoke");
        assert_eq!(
            token_tenant(&db.store, &new.secret).await,
            Some(t.id),
            "within the TTL the cached principal is used"
        );
        tokio::time::sleep(
            loket_store::tokens::TOKEN_CACHE_TTL + std::time::Duration::from_millis(200),
        )
        .await;
        assert_eq!(
            token_tenant(&db.store, &new.secret).await,
            None,
            "a revoked token is refused once its cache entry expired"
        );
    }
);

/// The messages of [`a_group_of_ingests_is_written_as_one_by_one`], in order: every way
/// a message can relate to one before it in the same group.
fn group_script(existing: ConversationId, closed: ConversationId) -> Vec<Inbound> {
    let mut out = Vec::new();
    let mut m = chat("g-1", "Eerste regel van een nieuwe inwoner");
    m.from = Address::new("session:nieuw");
    out.push(m.clone());
    // A second line of the same new contact joins the conversation the first one opened.
    let mut second = chat("g-2", "Tweede regel");
    second.from = Address::new("session:nieuw");
    out.push(second.clone());
    // The same key and bytes again: a duplicate of a message written earlier in the group.
    out.push(second);
    // The same key, other bytes: a new message flagged key_conflict.
    let mut conflict = chat("g-2", "Andere tekst onder dezelfde sleutel");
    conflict.from = Address::new("session:nieuw");
    out.push(conflict);
    // An email that starts a thread, and a reply to it in the same group.
    let mut first_mail = email("Message-ID: <start@example.nl>\r\n\r\nVraag");
    first_mail.rfc_message_id = Some("<start@example.nl>".into());
    out.push(first_mail);
    let mut reply = email("Message-ID: <reply@example.nl>\r\n\r\nAanvulling");
    reply.rfc_message_id = Some("<reply@example.nl>".into());
    reply.conversation = ConversationHint::Thread {
        references: vec!["<unknown@example.nl>".into(), "<start@example.nl>".into()],
        token: None,
    };
    out.push(reply);
    // A named conversation, and a closed one that a message reopens.
    let mut named = chat("g-3", "In een bestaand gesprek");
    named.conversation = ConversationHint::Conversation(existing);
    out.push(named);
    let mut reopen = chat("g-4", "Nog een vraag na het sluiten");
    reopen.conversation = ConversationHint::Conversation(closed);
    out.push(reopen);
    // A chat contact that exists already, and a message that always starts anew.
    out.push(chat("g-5", "Bekende inwoner"));
    let mut new_topic = chat("g-6", "Nieuw onderwerp");
    new_topic.conversation = ConversationHint::New;
    out.push(new_topic);
    out
}

on_both!(
    a_group_of_ingests_is_written_as_one_by_one,
    |db: TestDb| async move {
        // The same script in two tenants: one by one in `a`, as one group in `b`.
        let mut shapes = Vec::new();
        for (slug, grouped) in [("een-voor-een", false), ("als-groep", true)] {
            let t = tenant(&db.store, slug).await;
            let existing = db
                .store
                .ingest(t.id, chat("pre-1", "Bestaand"))
                .await
                .unwrap();
            let mut other = chat("pre-2", "Gesloten");
            other.from = Address::new("session:gesloten");
            let closed = db.store.ingest(t.id, other).await.unwrap();
            let p = Principal::system(t.id, "test");
            db.store
                .set_conversation_status(&p, closed.conversation_id, ConversationStatus::Closed)
                .await
                .unwrap();
            let script = group_script(existing.conversation_id, closed.conversation_id);
            let results = if grouped {
                db.store.ingest_many(t.id, script).await.unwrap()
            } else {
                let mut r = Vec::new();
                for m in script {
                    r.push(db.store.ingest(t.id, m).await.unwrap());
                }
                r
            };
            // Conversations by order of first appearance, so the two runs compare.
            let mut order: Vec<ConversationId> =
                vec![existing.conversation_id, closed.conversation_id];
            let mut shape = Vec::new();
            for r in &results {
                if !order.contains(&r.conversation_id) {
                    order.push(r.conversation_id);
                }
                let conv = order.iter().position(|c| *c == r.conversation_id).unwrap();
                let flags = db
                    .store
                    .message(t.id, r.message_id)
                    .await
                    .unwrap()
                    .expect("message")
                    .flags;
                shape.push((r.duplicate, r.key_conflict, conv, flags, r.seq.is_some()));
            }
            let reopened = db
                .store
                .conversation(t.id, closed.conversation_id)
                .await
                .unwrap()
                .expect("conversation")
                .status;
            assert_eq!(reopened, ConversationStatus::Open, "{slug}: reopened");
            let seqs: Vec<i64> = results.iter().filter_map(|r| r.seq).collect();
            assert!(
                seqs.windows(2).all(|w| w[1] == w[0] + 1),
                "{slug}: consecutive outbox sequence numbers in order: {seqs:?}"
            );
            shapes.push((shape, db.store.message_count(t.id).await.unwrap()));
        }
        assert_eq!(shapes[0], shapes[1]);
        // Spot checks of the expected shape itself, not only equality.
        let (shape, count) = &shapes[0];
        assert_eq!(*count, 2 + 9, "two before, nine new (one duplicate)");
        assert_eq!(shape[0].2, shape[1].2, "second chat line joins the first");
        assert!(shape[2].0, "a duplicate within the group");
        assert!(shape[3].1, "a key conflict within the group");
        assert_eq!(shape[4].2, shape[5].2, "the reply joins its thread");
        assert_eq!(shape[6].2, 0, "named conversation");
        assert_eq!(shape[7].2, 1, "closed conversation reopened");
        assert_eq!(shape[8].2, 0, "known contact joins its open conversation");
        assert!(shape[9].2 > 1 && shape[9].2 != shape[8].2, "a new topic");
        assert!(db.store.verify().await.unwrap().ok());
    }
);

on_both!(
    a_refused_message_in_a_group_stores_nothing_of_it,
    |db: TestDb| async move {
        let t = tenant(&db.store, "weigeren").await;
        let mut unknown = chat("r-2", "In een gesprek dat niet bestaat");
        unknown.conversation = ConversationHint::Conversation(ConversationId::new());
        let r = db
            .store
            .ingest_many(t.id, vec![chat("r-1", "Goed"), unknown])
            .await;
        assert!(
            matches!(r, Err(loket_store::StoreError::NotFound { .. })),
            "{r:?}"
        );
        assert_eq!(db.store.message_count(t.id).await.unwrap(), 0);
        assert!(db.store.verify().await.unwrap().ok());
    }
);

on_both!(
    concurrent_ingests_grouped_by_the_writer_all_land_once,
    |db: TestDb| async move {
        // 64 concurrent single ingests: the writer groups whatever is waiting, and some
        // of the groups contain the same message twice or the same new contact.
        let t = tenant(&db.store, "drukte").await;
        let mut tasks = Vec::new();
        for i in 0..64 {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                let mut m = chat(&format!("d-{}", i % 48), &format!("Bericht {}", i % 48));
                m.from = Address::new(format!("session:{}", i % 8));
                s.ingest(t.id, m).await
            }));
        }
        let mut new = 0;
        for task in tasks {
            let r = task.await.unwrap().unwrap();
            if !r.duplicate {
                new += 1;
            }
        }
        assert_eq!(new, 48);
        assert_eq!(db.store.message_count(t.id).await.unwrap(), 48);
        assert!(db.store.verify().await.unwrap().ok());
    }
);
