#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Woo cases in the store, each on SQLite and on PostgreSQL.

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use loket_core::woo::deadline::{Extension, Suspension, SuspensionKind};
use loket_core::woo::{Assessment, CaseStatus, Judgement, Outcome};
use loket_core::*;
use loket_store::on_both;
use loket_store::testing::TestDb;
use loket_store::woo::{HoldSubject, NewCase, NewSearchEntry};
use loket_store::{Backend, Store, StoreError};

fn chat(session: &str, key: &str, text: &str) -> Inbound {
    let mut m = Inbound::new(
        Channel::Webchat,
        Address::new(format!("session:{session}")),
        text,
        format!("{{\"id\":\"{key}\"}}").into_bytes(),
    );
    m.idempotency_key = Some(key.into());
    m.raw_content_type = "application/json".into();
    m.received_at = Some(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    m
}

fn officer(t: TenantId) -> Principal {
    Principal {
        tenant: t,
        role: Role::FoiOfficer,
        actor: Actor::System {
            name: "woo-test".into(),
        },
    }
}

fn field(e: StoreError) -> &'static str {
    match e {
        StoreError::InvalidField { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn request(store: &Store, t: TenantId) -> (WooCaseId, ConversationId) {
    let ing = store
        .ingest(
            t,
            chat("req", "r-1", "Graag alle stukken over het Stationsplein"),
        )
        .await
        .unwrap();
    let case = store
        .create_woo_case(
            &officer(t),
            NewCase {
                subject: "Stationsplein".into(),
                message: Some(ing.message_id),
                ..NewCase::default()
            },
        )
        .await
        .unwrap();
    (case.id, ing.conversation_id)
}

on_both!(case_numbers_deadline_and_history, |db: TestDb| async move {
    let t = db.store.create_tenant("utrecht", "Utrecht").await.unwrap();
    let (id, conv) = request(&db.store, t.id).await;
    let case = db.store.woo_case(t.id, id).await.unwrap();
    assert_eq!(case.number, "WOO-2026-0001");
    assert_eq!(
        case.received_on,
        NaiveDate::from_ymd_opt(2026, 11, 2).unwrap()
    );
    // Mon 2 Nov 2026 + 28 days = Mon 30 Nov 2026.
    assert_eq!(case.deadline.due, NaiveDate::from_ymd_opt(2026, 11, 30));
    assert_eq!(case.conversation, Some(conv));
    let second = db
        .store
        .create_woo_case(
            &officer(t.id),
            NewCase {
                subject: "Brief over bomen".into(),
                requester_name: Some("J. Jansen".into()),
                received_at: Some(Utc.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap()),
                ..NewCase::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(second.number, "WOO-2026-0002");
    // Another tenant counts from 1 again.
    let other = db.store.create_tenant("zeist", "Zeist").await.unwrap();
    let (oid, _) = request(&db.store, other.id).await;
    assert_eq!(
        db.store.woo_case(other.id, oid).await.unwrap().number,
        "WOO-2026-0001"
    );
    assert!(
        db.store.woo_case(other.id, id).await.is_err(),
        "cases are per tenant"
    );

    // Status machine: no jump to afgerond; a decision needs its outcome.
    let p = officer(t.id);
    let e = db
        .store
        .set_woo_case_status(&p, id, CaseStatus::Afgerond, None)
        .await;
    assert_eq!(field(e.unwrap_err()), "status");
    db.store
        .set_woo_case_status(&p, id, CaseStatus::InBehandeling, None)
        .await
        .unwrap();
    let e = db
        .store
        .set_woo_case_status(&p, id, CaseStatus::BesluitGenomen, None)
        .await;
    assert_eq!(field(e.unwrap_err()), "outcome");
    db.store
        .set_woo_case_status(
            &p,
            id,
            CaseStatus::BesluitGenomen,
            Some(Outcome::Openbaarmaking),
        )
        .await
        .unwrap();
    let history = db.store.woo_case_history(t.id, id).await.unwrap();
    let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["registered", "status", "status"]);
    // Every change is an audit event too.
    let audit = db
        .store
        .audit_events(
            t.id,
            loket_store::audit::AuditQuery {
                action: Some("woo_case_changed".into()),
                subject_id: Some(id.to_string()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 3);
});

on_both!(
    extension_and_suspensions_are_checked,
    |db: TestDb| async move {
        let t = db.store.create_tenant("utrecht", "Utrecht").await.unwrap();
        let (id, _) = request(&db.store, t.id).await;
        let p = officer(t.id);
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let late = Extension {
            days: 14,
            decided_on: d(12, 1),
            reason: "omvang".into(),
        };
        let e = db.store.extend_woo_case(&p, id, late).await.unwrap_err();
        assert_eq!(field(e), "extension");
        let ok = Extension {
            days: 14,
            decided_on: d(11, 20),
            reason: "omvang".into(),
        };
        let case = db.store.extend_woo_case(&p, id, ok.clone()).await.unwrap();
        // Mon 30 Nov + 14 = Mon 14 Dec 2026.
        assert_eq!(case.deadline.due, Some(d(12, 14)));
        let e = db.store.extend_woo_case(&p, id, ok).await.unwrap_err();
        assert_eq!(field(e), "extension", "a second extension is refused");

        let backwards = Suspension {
            kind: SuspensionKind::Zienswijze,
            asked_on: d(11, 16),
            ended_on: Some(d(11, 10)),
        };
        let e = db
            .store
            .suspend_woo_case(&p, id, backwards)
            .await
            .unwrap_err();
        assert_eq!(field(e), "ended_on");
        let running = Suspension {
            kind: SuspensionKind::Zienswijze,
            asked_on: d(11, 16),
            ended_on: None,
        };
        let case = db.store.suspend_woo_case(&p, id, running).await.unwrap();
        assert_eq!(case.status, CaseStatus::Opgeschort);
        assert_eq!(case.deadline.due, None);
        let sid = case.suspensions[0].0.clone();
        let case = db
            .store
            .end_woo_suspension(&p, id, &sid, d(11, 20))
            .await
            .unwrap();
        assert_eq!(case.status, CaseStatus::InBehandeling);
        // Suspended 17..=20 Nov (4 days): Mon 30 Nov + 4 + 14 = Fri 18 Dec 2026.
        assert_eq!(case.deadline.due, Some(d(12, 18)));
        let kinds: Vec<String> = db
            .store
            .woo_case_history(t.id, id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["registered", "extended", "suspended", "suspension_ended"]
        );
    }
);

on_both!(
    all_hits_add_each_conversation_once,
    |db: TestDb| async move {
        let t = db.store.create_tenant("utrecht", "Utrecht").await.unwrap();
        let (id, _) = request(&db.store, t.id).await;
        let p = officer(t.id);
        // 2,000 conversations with 3 messages each; a search's 25,000 hits name them over and over.
        let mut inbound = Vec::new();
        for c in 0..2_000 {
            for m in 0..3 {
                inbound.push(chat(
                    &format!("s{c}"),
                    &format!("k{c}-{m}"),
                    "stationsplein",
                ));
            }
        }
        let ingested = db.store.ingest_many(t.id, inbound).await.unwrap();
        let conversations: Vec<ConversationId> =
            ingested.iter().map(|i| i.conversation_id).collect();
        let distinct: std::collections::HashSet<_> = conversations.iter().copied().collect();
        assert_eq!(distinct.len(), 2_000);
        let hits: Vec<ConversationId> = (0..25_000)
            .map(|i| conversations[(i * 7) % conversations.len()])
            .collect();

        // One hit first: its whole conversation becomes document 1.
        let one = db
            .store
            .add_woo_documents(&p, id, vec![hits[0]])
            .await
            .unwrap();
        assert_eq!(one.added, 1);
        let all = db
            .store
            .add_woo_documents(&p, id, hits.clone())
            .await
            .unwrap();
        assert_eq!(all.added, 1_999, "every other conversation once");
        let again = db.store.add_woo_documents(&p, id, hits).await.unwrap();
        assert_eq!(again.added, 0);
        let mut seen = std::collections::HashSet::new();
        let mut after = None;
        let mut numbers = Vec::new();
        loop {
            let page = db
                .store
                .woo_documents(t.id, id, after, 1_000)
                .await
                .unwrap();
            for d in &page.documents {
                assert!(seen.insert(d.conversation), "conversation twice");
                numbers.push(d.number);
            }
            match page.next_after {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, distinct);
        assert_eq!(numbers, (1..=2_000).collect::<Vec<i32>>());
        // The unit is the whole conversation: document 1 has all three of its messages.
        let doc1 = db
            .store
            .woo_documents(t.id, id, None, 1)
            .await
            .unwrap()
            .documents
            .remove(0);
        assert_eq!(
            db.store
                .conversation_messages(t.id, doc1.conversation)
                .await
                .unwrap()
                .len(),
            3
        );

        // Another tenant's conversation is refused, and nothing is added.
        let other = db.store.create_tenant("zeist", "Zeist").await.unwrap();
        let foreign = db
            .store
            .ingest(other.id, chat("x", "x-1", "hoi"))
            .await
            .unwrap();
        let fresh = db
            .store
            .ingest(t.id, chat("new", "n-1", "nieuw"))
            .await
            .unwrap();
        let e = db
            .store
            .add_woo_documents(&p, id, vec![fresh.conversation_id, foreign.conversation_id])
            .await
            .unwrap_err();
        assert_eq!(field(e), "conversation_id");
        assert_eq!(
            db.store.woo_case(t.id, id).await.unwrap().document_count,
            2_000
        );
    }
);

on_both!(judgements_are_validated, |db: TestDb| async move {
    let t = db.store.create_tenant("utrecht", "Utrecht").await.unwrap();
    let (id, conv) = request(&db.store, t.id).await;
    let p = officer(t.id);
    db.store
        .add_woo_documents(&p, id, vec![conv])
        .await
        .unwrap();
    let refuse = |grounds: &[&str], motivation: &str| Assessment {
        judgement: Judgement::DeelsOpenbaar,
        grounds: grounds.iter().map(|g| g.to_string()).collect(),
        motivation: motivation.into(),
        link: None,
        art_5_3_reasons: None,
    };
    let e = db
        .store
        .judge_woo_documents(&p, id, vec![1], refuse(&["5.9"], "x"))
        .await;
    assert_eq!(field(e.unwrap_err()), "grounds");
    let e = db
        .store
        .judge_woo_documents(&p, id, vec![1], refuse(&["5.1.2e"], ""))
        .await;
    assert_eq!(field(e.unwrap_err()), "motivation");
    let doc = db
        .store
        .woo_documents(t.id, id, None, 10)
        .await
        .unwrap()
        .documents
        .remove(0);
    assert_eq!(doc.judgement, None, "nothing changed by refused input");
    db.store
        .judge_woo_documents(&p, id, vec![1], refuse(&["5.1.2e"], "namen van inwoners"))
        .await
        .unwrap();
    let doc = db
        .store
        .woo_documents(t.id, id, None, 10)
        .await
        .unwrap()
        .documents
        .remove(0);
    assert_eq!(doc.judgement, Some(Judgement::DeelsOpenbaar));
    assert_eq!(doc.grounds, vec!["5.1.2e"]);
    assert!(!doc.older_than_five_years);
    let e = db.store.mark_woo_duplicate(&p, id, 1, Some(7)).await;
    assert_eq!(field(e.unwrap_err()), "duplicate_of");
});

on_both!(
    search_log_holds_every_search_with_its_count,
    |db: TestDb| async move {
        let t = db.store.create_tenant("utrecht", "Utrecht").await.unwrap();
        let (id, _) = request(&db.store, t.id).await;
        let p = officer(t.id);
        for (q, n) in [("stationsplein", 25_000i64), ("herinrichting", 12)] {
            db.store
                .log_woo_search(
                    &p,
                    id,
                    NewSearchEntry::Loket {
                        query: q.into(),
                        filters: serde_json::json!({"channel": "webchat"}),
                        hits: n,
                        conversations: n / 2,
                    },
                )
                .await
                .unwrap();
        }
        db.store
            .log_woo_search(
                &p,
                id,
                NewSearchEntry::Manual {
                    system: "Decos".into(),
                    terms: "Stationsplein".into(),
                    searched_on: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
                    result: "3 brieven".into(),
                },
            )
            .await
            .unwrap();
        let e = db
            .store
            .log_woo_search(
                &p,
                id,
                NewSearchEntry::Manual {
                    system: " ".into(),
                    terms: "x".into(),
                    searched_on: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
                    result: String::new(),
                },
            )
            .await;
        assert_eq!(field(e.unwrap_err()), "system");
        let log = db.store.woo_search_log(t.id, id).await.unwrap();
        assert_eq!(log.len(), 3);
        assert_eq!(
            (log[0].query.as_str(), log[0].hits),
            ("stationsplein", Some(25_000))
        );
        assert_eq!(
            (log[1].query.as_str(), log[1].hits),
            ("herinrichting", Some(12))
        );
        assert_eq!(
            (log[2].source.as_str(), log[2].system.as_str()),
            ("manual", "Decos")
        );
    }
);

on_both!(
    held_conversation_cannot_be_removed,
    |db: TestDb| async move {
        let t = db.store.create_tenant("utrecht", "Utrecht").await.unwrap();
        let (id, conv) = request(&db.store, t.id).await;
        let admin = Principal::system(t.id, "retention");
        assert!(
            db.store.is_held(t.id, conv).await.unwrap(),
            "an open case holds its conversation"
        );
        let holds = db.store.legal_holds(t.id, true).await.unwrap();
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].subject, HoldSubject::Conversation(conv));
        assert_eq!(holds[0].case, Some(id));
        assert!(holds[0].reason.contains("WOO-2026-0001"));
        let e = db
            .store
            .destroy_conversation(&admin, conv)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Held(_)), "{e:?}");
        // Not even a DELETE past the store's code: the database refuses it.
        let url = db.url.clone();
        let backend = db.backend;
        let cid = conv.to_string();
        let refused = tokio::task::spawn_blocking(move || {
        let sql = format!(
            "DELETE FROM messages WHERE conversation_id = '{cid}'; DELETE FROM conversations WHERE id = '{cid}';"
        );
        match backend {
            Backend::Sqlite => diesel::sqlite::SqliteConnection::establish(&url).unwrap().batch_execute(&sql),
            Backend::Postgres => diesel::pg::PgConnection::establish(&url).unwrap().batch_execute(&sql),
        }
    })
    .await
    .unwrap();
        assert!(
            refused.is_err(),
            "the trigger refuses deleting a held conversation"
        );
        assert_eq!(
            db.store
                .conversation_messages(t.id, conv)
                .await
                .unwrap()
                .len(),
            1
        );

        // A contact hold by an admin holds its conversations too; released, destroy works.
        let p = officer(t.id);
        db.store
            .set_woo_case_status(&p, id, CaseStatus::Ingetrokken, None)
            .await
            .unwrap();
        assert!(
            !db.store.is_held(t.id, conv).await.unwrap(),
            "a closed case releases its holds"
        );
        let contact = db
            .store
            .conversation(t.id, conv)
            .await
            .unwrap()
            .unwrap()
            .contact_id;
        let hold = db
            .store
            .place_hold(&admin, HoldSubject::Contact(contact), "rechtszaak")
            .await
            .unwrap();
        assert!(db.store.is_held(t.id, conv).await.unwrap());
        assert!(matches!(
            db.store.destroy_conversation(&admin, conv).await,
            Err(StoreError::Held(_))
        ));
        db.store.release_hold(&admin, hold.id).await.unwrap();
        let listed = db.store.legal_holds(t.id, false).await.unwrap();
        assert_eq!(listed.len(), 2, "released holds stay listed");
    }
);
