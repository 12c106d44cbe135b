//! Search against a real store (file-backed SQLite and PostgreSQL) and real tantivy.

use loket_core::{Address, Channel, ConversationHint, Inbound, MessageId, NewAttachment, TenantId};
use loket_search::{SearchConfig, SearchError, SearchRequest, SearchService, Sort};
use loket_store::testing::TestDb;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::watch;

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

struct Fixture {
    db: TestDb,
    dir: tempfile::TempDir,
    svc: SearchService,
    stop: watch::Sender<bool>,
    indexer: tokio::task::JoinHandle<Result<(), SearchError>>,
}

impl Fixture {
    async fn new(db: TestDb, cfg: SearchConfig) -> Result<Fixture, BoxErr> {
        let dir = tempfile::tempdir()?;
        let svc = SearchService::open(db.store.clone(), dir.path(), cfg).await?;
        let (stop, rx) = watch::channel(false);
        let indexer = svc.spawn_indexer(rx);
        Ok(Fixture {
            db,
            dir,
            svc,
            stop,
            indexer,
        })
    }

    async fn stop(self) -> Result<(TestDb, tempfile::TempDir), BoxErr> {
        self.stop.send(true)?;
        self.indexer.await??;
        Ok((self.db, self.dir))
    }

    async fn synced(&self) -> Result<(), BoxErr> {
        let head = *self.db.store.outbox_watch().borrow();
        tokio::time::timeout(Duration::from_secs(60), self.svc.wait_indexed(head)).await??;
        Ok(())
    }

    async fn count(&self, tenant: TenantId, q: &str) -> Result<u64, BoxErr> {
        Ok(self
            .svc
            .search(tenant, &SearchRequest::new(q))
            .await?
            .total_messages)
    }
}

fn msg(channel: Channel, from: &str, subject: Option<&str>, text: &str) -> Inbound {
    let key = uuid::Uuid::now_v7().to_string();
    let mut m = Inbound::new(
        channel,
        Address::new(from),
        text,
        format!("{key}:{text}").into_bytes(),
    );
    m.idempotency_key = Some(key);
    m.subject = subject.map(str::to_owned);
    m.raw_content_type = "application/json".into();
    m
}

async fn backends() -> Result<Vec<TestDb>, BoxErr> {
    Ok(TestDb::each().await?)
}

/// A PDF whose only text is `words`, in a Flate-compressed content stream.
fn pdf_with(words: &str) -> Result<Vec<u8>, BoxErr> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 12.into()]),
        Operation::new("Td", vec![72.into(), 760.into()]),
        Operation::new("Tj", vec![Object::string_literal(words)]),
    ];
    // a letterhead repeated down the page, so that compression pays off
    for _ in 0..20 {
        operations.push(Operation::new("Td", vec![0.into(), (-24).into()]));
        operations.push(Operation::new(
            "Tj",
            vec![Object::string_literal(
                "Gemeente Voorbeeld - afdeling Publiekszaken",
            )],
        ));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations };
    let mut stream = Stream::new(dictionary! {}, content.encode()?);
    stream.compress()?;
    assert!(
        stream.dict.get(b"Filter").is_ok(),
        "content stream is compressed"
    );
    let content_id = doc.add_object(stream);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out)?;
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_is_found_within_a_second_of_ingest() -> Result<(), BoxErr> {
    for db in backends().await? {
        let backend = format!("{:?}", db.backend);
        let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        let f = Fixture::new(db, SearchConfig::default()).await?;
        f.synced().await?;
        let mut worst = Duration::ZERO;
        for i in 0..5 {
            let word = format!("zoekwoord{i}x");
            let started = Instant::now();
            f.db.store
                .ingest(
                    t.id,
                    msg(
                        Channel::Sms,
                        "+31612345678",
                        None,
                        &format!("Bericht met {word}"),
                    ),
                )
                .await?;
            loop {
                if f.count(t.id, &word).await? == 1 {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "{backend}: not found after 10 s"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            worst = worst.max(started.elapsed());
        }
        eprintln!("{backend}: worst ingest→searchable {worst:?}");
        // The contract is ≤ 1 s; the machine is shared, so allow slack here and measure
        // the real figure in the benchmark.
        assert!(worst < Duration::from_secs(3), "{backend}: {worst:?}");
        f.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dutch_analysis_and_query_language() -> Result<(), BoxErr> {
    for db in backends().await? {
        let b = format!("{:?}", db.backend);
        let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        let s = &db.store;
        let mut m1 = msg(
            Channel::Email,
            "jan.jansen@example.nl",
            Some("Aanvraag kapvergunning"),
            "Ik wil een vergunning aanvragen voor het kappen van een boom.",
        );
        m1.from.name = Some("Jan Jansen".into());
        m1.received_at = Some("2024-03-15T10:00:00Z".parse()?);
        s.ingest(t.id, m1).await?;
        let mut m2 = msg(
            Channel::Webchat,
            "chat-session-1",
            None,
            "Is het café op de Markt open op zondag?",
        );
        m2.received_at = Some("2024-08-01T10:00:00Z".parse()?);
        s.ingest(t.id, m2).await?;
        let mut m3 = msg(
            Channel::Sms,
            "+31612345678",
            None,
            "Mijn paspoort is verlopen, wanneer kan ik langskomen?",
        );
        m3.received_at = Some("2023-12-31T23:59:00Z".parse()?);
        s.ingest(t.id, m3).await?;
        let f = Fixture::new(db, SearchConfig::default()).await?;
        f.synced().await?;
        let c = |q: &'static str| f.count(t.id, q);
        // stemming and accent folding
        assert_eq!(c("vergunningen").await?, 1, "{b}: stemming");
        assert_eq!(c("Vergunning").await?, 1, "{b}");
        assert_eq!(c("cafe").await?, 1, "{b}: accent folding");
        assert_eq!(c("CAFÉ").await?, 1, "{b}");
        // exact (unstemmed) field
        assert_eq!(c("exact:vergunning").await?, 1, "{b}");
        assert_eq!(c("exact:vergunningen").await?, 0, "{b}");
        // phrases, prefix, fuzzy
        assert_eq!(c("\"vergunning aanvragen\"").await?, 1, "{b}");
        assert_eq!(c("\"aanvragen vergunning\"").await?, 0, "{b}");
        assert_eq!(c("vergunn*").await?, 1, "{b}");
        assert_eq!(c("kapverg*").await?, 1, "{b}");
        assert_eq!(c("vergunnig~1").await?, 1, "{b}: fuzzy");
        assert_eq!(c("paspoort~1").await?, 1, "{b}");
        // boolean
        assert_eq!(c("vergunning OR paspoort").await?, 2, "{b}");
        assert_eq!(c("vergunning AND paspoort").await?, 0, "{b}");
        assert_eq!(c("(vergunning OR paspoort) NOT boom").await?, 1, "{b}");
        assert_eq!(
            c("-boom").await?,
            2,
            "{b}: a purely negative query runs against all"
        );
        // fields
        assert_eq!(c("from:jansen").await?, 1, "{b}");
        assert_eq!(c("from:jan.jansen@example.nl").await?, 1, "{b}");
        assert_eq!(c("from:\"Jan Jansen\"").await?, 1, "{b}");
        assert_eq!(c("subject:kapvergunning").await?, 1, "{b}");
        assert_eq!(c("subject:paspoort").await?, 0, "{b}");
        assert_eq!(c("channel:sms").await?, 1, "{b}");
        assert_eq!(c("channel:webchat OR channel:email").await?, 2, "{b}");
        assert_eq!(c("direction:inbound").await?, 3, "{b}");
        // dates (UTC days, end day inclusive)
        assert_eq!(c("date:2024-01-01..2024-06-30").await?, 1, "{b}");
        assert_eq!(c("date:2024").await?, 2, "{b}");
        assert_eq!(c("date:..2023-12-31").await?, 1, "{b}");
        assert_eq!(c("date:2024-08-01").await?, 1, "{b}");
        // snippets and hit fields
        let p = f
            .svc
            .search(t.id, &SearchRequest::new("vergunningen"))
            .await?;
        let h = &p.hits[0];
        assert_eq!(h.channel, Channel::Email);
        assert_eq!(h.subject.as_deref(), Some("Aanvraag kapvergunning"));
        assert_eq!(h.from, "Jan Jansen <jan.jansen@example.nl>");
        assert!(
            h.snippet_html.contains("<mark>vergunning</mark>"),
            "{b}: {}",
            h.snippet_html
        );
        assert!(h.score > 0.0);
        assert_eq!(p.total_conversations, 1);
        // ordering by date
        let mut r = SearchRequest::new("-nietsvandit");
        r.sort = Sort::Oldest;
        let p = f.svc.search(t.id, &r).await?;
        let times: Vec<_> = p.hits.iter().map(|h| h.received_at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{b}: oldest first");
        r.sort = Sort::Newest;
        let p = f.svc.search(t.id, &r).await?;
        assert!(
            p.hits
                .windows(2)
                .all(|w| w[0].received_at >= w[1].received_at),
            "{b}: newest first"
        );
        f.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_queries_are_errors_with_position() -> Result<(), BoxErr> {
    let db = TestDb::sqlite().await?;
    let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
    db.store
        .ingest(
            t.id,
            msg(Channel::Sms, "+31600000001", None, "vergunning verlopen"),
        )
        .await?;
    let f = Fixture::new(db, SearchConfig::default()).await?;
    f.synced().await?;
    let cases: &[(&str, usize)] = &[
        ("kap \"vergunning", 4),
        ("(kap OR boom", 0),
        ("kap OR", 6),
        ("*", 0),
        ("ve*", 0),
        ("channel:fax", 8),
        ("date:2024-06-30..2024-01-01", 5),
        ("kleur:rood", 0),
    ];
    for (q, pos) in cases {
        match f.svc.search(t.id, &SearchRequest::new(*q)).await {
            Err(e @ SearchError::Query { position, .. }) => {
                assert_eq!(position, *pos, "{q}");
                assert!(e.is_client_error());
            }
            other => panic!("{q}: expected a query error, got {other:?}"),
        }
    }
    // absurd: very long query, and a prefix that expands too far
    let long = "woord ".repeat(1000);
    assert!(matches!(
        f.svc.search(t.id, &SearchRequest::new(long)).await,
        Err(SearchError::Query { .. })
    ));
    let mut cfg = SearchConfig::default();
    cfg.limits.max_prefix_expansions = 1;
    let (db, _dir) = f.stop().await?;
    let svc = SearchService::open(db.store.clone(), _dir.path(), cfg).await?;
    match svc.search(t.id, &SearchRequest::new("ver*")).await {
        Err(SearchError::Query { message, .. }) => {
            assert!(message.contains("more than 1"), "{message}")
        }
        other => panic!("expected expansion limit, got {other:?}"),
    }
    // a cursor of another search is refused
    let bad = SearchRequest {
        cursor: Some("bm90LWEtY3Vyc29y".into()),
        ..SearchRequest::new("vergunning")
    };
    assert!(matches!(
        svc.search(t.id, &bad).await,
        Err(SearchError::Cursor(_))
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn word_only_inside_a_pdf_attachment_is_found() -> Result<(), BoxErr> {
    let pdf = pdf_with("Besluit over de xylofoonwerkplaats aan de Dorpsstraat")?;
    // the word is not in the file as plain bytes: the stream is compressed
    assert!(!pdf.windows(8).any(|w| w == b"xylofoon"));
    for db in backends().await? {
        let b = format!("{:?}", db.backend);
        let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        let mut m = msg(
            Channel::Email,
            "burger@example.nl",
            Some("Bijlage"),
            "Zie de bijlage.",
        );
        m.attachments.push(NewAttachment {
            filename: Some("besluit-2024.pdf".into()),
            content_type: "application/pdf".into(),
            content_id: None,
            data: pdf.clone(),
        });
        m.attachments.push(NewAttachment {
            filename: Some("notitie.txt".into()),
            content_type: "text/plain".into(),
            content_id: None,
            data: "Aantekening over de trampolinevergunning"
                .as_bytes()
                .to_vec(),
        });
        m.attachments.push(NewAttachment {
            filename: Some("kapot.pdf".into()),
            content_type: "application/pdf".into(),
            content_id: None,
            data: b"%PDF-1.4 garbage that makes pdf parsers fail".to_vec(),
        });
        let id = db.store.ingest(t.id, m).await?.message_id;
        let f = Fixture::new(db, SearchConfig::default()).await?;
        f.synced().await?;
        let p = f
            .svc
            .search(t.id, &SearchRequest::new("xylofoonwerkplaats"))
            .await?;
        assert_eq!(p.total_messages, 1, "{b}: word inside the PDF");
        assert_eq!(p.hits[0].message_id, id);
        assert_eq!(
            f.count(t.id, "trampolinevergunningen").await?,
            1,
            "{b}: text attachment, stemmed"
        );
        assert_eq!(f.count(t.id, "besluit").await?, 1, "{b}: attachment name");
        f.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_other() -> Result<(), BoxErr> {
    for db in backends().await? {
        let b = format!("{:?}", db.backend);
        let a = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        let z = db.store.create_tenant("gemeente-z", "Gemeente Z").await?;
        let mut ids_a = HashSet::new();
        let mut ids_z = HashSet::new();
        for i in 0..30 {
            let r = db
                .store
                .ingest(
                    a.id,
                    msg(
                        Channel::Sms,
                        "+31600000001",
                        None,
                        &format!("afvalcontainer {i} gemeente"),
                    ),
                )
                .await?;
            ids_a.insert(r.message_id);
            let r = db
                .store
                .ingest(
                    z.id,
                    msg(
                        Channel::Sms,
                        "+31600000001",
                        None,
                        &format!("afvalcontainer {i} gemeente"),
                    ),
                )
                .await?;
            ids_z.insert(r.message_id);
        }
        let f = Fixture::new(db, SearchConfig::default()).await?;
        f.synced().await?;
        for (t, own) in [(a.id, &ids_a), (z.id, &ids_z)] {
            let mut req = SearchRequest::new("afvalcontainer");
            req.limit = Some(7);
            let mut seen = HashSet::new();
            loop {
                let p = f.svc.search(t, &req).await?;
                assert_eq!(p.total_messages, 30, "{b}");
                for h in &p.hits {
                    assert!(own.contains(&h.message_id), "{b}: another tenant's message");
                    seen.insert(h.message_id);
                }
                match p.next_cursor {
                    Some(c) => req.cursor = Some(c),
                    None => break,
                }
            }
            assert_eq!(&seen, own, "{b}");
            let all: Vec<MessageId> = f
                .svc
                .stream(t, "gemeente", Sort::Newest)
                .await?
                .map(|h| h.map(|h| h.message_id))
                .collect::<Result<_, _>>()?;
            assert!(all.iter().all(|i| own.contains(i)), "{b}: stream");
        }
        // a cursor of tenant A does not work for tenant Z
        let mut req = SearchRequest::new("afvalcontainer");
        req.limit = Some(5);
        let p = f.svc.search(a.id, &req).await?;
        req.cursor = p.next_cursor;
        assert!(
            matches!(f.svc.search(z.id, &req).await, Err(SearchError::Cursor(_))),
            "{b}"
        );
        // message ids of A are not found in Z
        let some_a = ids_a.iter().next().copied().ok_or("no id")?;
        assert_eq!(f.count(z.id, &format!("id:{some_a}")).await?, 0, "{b}");
        assert_eq!(f.count(a.id, &format!("id:{some_a}")).await?, 1, "{b}");
        assert!(f.svc.verify_index(a.id).await?.is_clean());
        assert!(f.svc.verify_index(z.id).await?.is_clean());
        f.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_count_and_all_25000_via_paging_and_streaming() -> Result<(), BoxErr> {
    const N: usize = 25_000;
    for db in backends().await? {
        let b = format!("{:?}", db.backend);
        let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        let started = Instant::now();
        let mut ids = HashSet::new();
        let mut convs = HashSet::new();
        for chunk in 0..(N / 1_000) {
            let batch: Vec<Inbound> = (0..1_000)
                .map(|i| {
                    let n = chunk * 1_000 + i;
                    // 250 contacts: messages of one contact share a conversation
                    let mut m = msg(
                        Channel::Sms,
                        &format!("+316{:08}", n % 250),
                        None,
                        &format!("Melding {n} over parkeervergunning in wijk {}", n % 17),
                    );
                    m.conversation = ConversationHint::LatestOpenOfContact;
                    m
                })
                .collect();
            for r in db.store.ingest_many(t.id, batch).await? {
                ids.insert(r.message_id);
                convs.insert(r.conversation_id);
            }
        }
        // and some that do not match
        for i in 0..50 {
            db.store
                .ingest(
                    t.id,
                    msg(
                        Channel::Email,
                        "x@example.nl",
                        None,
                        &format!("Iets anders {i}"),
                    ),
                )
                .await?;
        }
        eprintln!("{b}: ingest of {N} took {:?}", started.elapsed());
        let f = Fixture::new(db, SearchConfig::default()).await?;
        f.synced().await?;
        eprintln!("{b}: indexed after {:?}", started.elapsed());

        let mut req = SearchRequest::new("parkeervergunningen");
        req.limit = Some(1_000);
        req.sort = Sort::Relevance;
        let first = f.svc.search(t.id, &req).await?;
        assert_eq!(first.total_messages, N as u64, "{b}: exact count");
        assert_eq!(
            first.total_conversations,
            convs.len() as u64,
            "{b}: exact conversation count"
        );
        // page through everything while new matching messages arrive: the pinned snapshot
        // keeps pages from repeating or skipping.
        let mut seen = HashSet::new();
        let mut page = first;
        let mut pages = 0;
        loop {
            pages += 1;
            assert_eq!(
                page.total_messages, N as u64,
                "{b}: count stable while paging"
            );
            for h in &page.hits {
                assert!(
                    seen.insert(h.message_id),
                    "{b}: a hit repeated across pages"
                );
            }
            if pages == 3 {
                for _ in 0..20 {
                    f.db.store
                        .ingest(
                            t.id,
                            msg(Channel::Sms, "+31699999999", None, "late parkeervergunning"),
                        )
                        .await?;
                }
                f.synced().await?;
            }
            let Some(c) = page.next_cursor.take() else {
                break;
            };
            req.cursor = Some(c);
            page = f.svc.search(t.id, &req).await?;
        }
        assert_eq!(seen, ids, "{b}: every one of the {N} messages, via paging");
        // by date: keyset paging
        let mut req = SearchRequest::new("parkeervergunning");
        req.sort = Sort::Newest;
        req.limit = Some(1_000);
        req.no_snippets = true;
        let mut n = 0u64;
        let mut last = None;
        loop {
            let p = f.svc.search(t.id, &req).await?;
            for h in &p.hits {
                if let Some(l) = last {
                    assert!(h.received_at <= l, "{b}: newest first across pages");
                }
                last = Some(h.received_at);
                n += 1;
            }
            match p.next_cursor {
                Some(c) => req.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            n,
            N as u64 + 20,
            "{b}: a new search sees the late messages too"
        );
        // streaming
        let stream = f
            .svc
            .stream(t.id, "parkeervergunning NOT late", Sort::Oldest)
            .await?;
        assert_eq!(stream.total, N as u64);
        let streamed: HashSet<MessageId> = stream
            .map(|h| h.map(|h| h.message_id))
            .collect::<Result<_, _>>()?;
        assert_eq!(streamed, ids, "{b}: every one via streaming");
        let diff = f.svc.verify_index(t.id).await?;
        assert!(diff.is_clean(), "{b}: {diff:?}");
        assert_eq!(diff.archived, N as u64 + 70);
        f.stop().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_killed_mid_way_resumes_from_commit_payload() -> Result<(), BoxErr> {
    for db in backends().await? {
        let b = format!("{:?}", db.backend);
        let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        for i in 0..100 {
            db.store
                .ingest(
                    t.id,
                    msg(
                        Channel::Webchat,
                        "s1",
                        None,
                        &format!("geluidsoverlast melding {i}"),
                    ),
                )
                .await?;
        }
        // A writer that never commits by itself: the first 100 come from the initial build
        // (committed), the next 100 stay uncommitted in the writer.
        let mut cfg = SearchConfig::default();
        cfg.commit.max_delay_ms = 3_600_000;
        cfg.commit.max_docs = 1_000_000;
        let f = Fixture::new(db, cfg).await?;
        f.synced().await?;
        let committed = f.svc.committed_seq(t.id)?;
        assert!(committed > 0, "{b}");
        for i in 100..200 {
            f.db.store
                .ingest(
                    t.id,
                    msg(
                        Channel::Webchat,
                        "s1",
                        None,
                        &format!("geluidsoverlast melding {i}"),
                    ),
                )
                .await?;
        }
        let head = *f.db.store.outbox_watch().borrow();
        // wait until the indexer has handed everything to the writer, then "kill" it
        let deadline = Instant::now() + Duration::from_secs(30);
        while f.svc.dispatched_seq() < head {
            assert!(Instant::now() < deadline, "{b}: not dispatched");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        f.indexer.abort();
        let _ = (&mut { f.indexer }).await;
        f.svc.simulate_crash().await;
        assert_eq!(
            f.svc.committed_seq(t.id)?,
            committed,
            "{b}: nothing was committed after the build"
        );
        let dir = f.dir;
        let db = f.db;
        drop(f.svc);
        drop(f.stop);

        // restart
        let svc =
            SearchService::open(db.store.clone(), dir.path(), SearchConfig::default()).await?;
        assert_eq!(
            svc.committed_seq(t.id)?,
            committed,
            "{b}: resumes from the payload"
        );
        let diff = svc.verify_index(t.id).await?;
        assert_eq!(
            diff.missing_in_index.len(),
            100,
            "{b}: before catching up the lost batch is missing"
        );
        let (stop, rx) = watch::channel(false);
        let h = svc.spawn_indexer(rx);
        tokio::time::timeout(Duration::from_secs(60), svc.wait_indexed(head)).await??;
        let p = svc
            .search(t.id, &SearchRequest::new("geluidsoverlast"))
            .await?;
        assert_eq!(
            p.total_messages, 200,
            "{b}: nothing missed, nothing doubled"
        );
        let diff = svc.verify_index(t.id).await?;
        assert!(diff.is_clean(), "{b}: {diff:?}");
        assert_eq!((diff.archived, diff.indexed), (200, 200));
        // a second restart replays nothing twice either
        stop.send(true)?;
        h.await??;
        let svc =
            SearchService::open(db.store.clone(), dir.path(), SearchConfig::default()).await?;
        svc.catch_up().await?;
        let diff = svc.verify_index(t.id).await?;
        assert!(diff.is_clean() && diff.indexed == 200, "{b}: {diff:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_and_schema_change_rebuild_while_old_index_serves() -> Result<(), BoxErr> {
    for db in backends().await? {
        let b = format!("{:?}", db.backend);
        let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
        for i in 0..50 {
            db.store
                .ingest(
                    t.id,
                    msg(
                        Channel::Email,
                        "a@example.nl",
                        Some("Subsidie"),
                        &format!("subsidieaanvraag nummer {i}"),
                    ),
                )
                .await?;
        }
        let f = Fixture::new(db, SearchConfig::default()).await?;
        f.synced().await?;
        assert_eq!(f.count(t.id, "subsidieaanvraag").await?, 50);
        // on request, with the indexer running
        f.svc.reindex(t.id).await?;
        f.db.store
            .ingest(
                t.id,
                msg(
                    Channel::Sms,
                    "+31600000002",
                    None,
                    "subsidieaanvraag na herbouw",
                ),
            )
            .await?;
        f.synced().await?;
        assert_eq!(f.count(t.id, "subsidieaanvraag").await?, 51, "{b}");
        assert!(f.svc.verify_index(t.id).await?.is_clean(), "{b}");
        let (db, dir) = f.stop().await?;

        // Pretend the index on disk has an older schema version.
        let root = dir.path().join("index").join(t.id.to_string());
        let current = std::fs::read_to_string(root.join("CURRENT"))?;
        let old = current.replacen(&format!("v{}-", loket_search::SCHEMA_VERSION), "v0-", 1);
        std::fs::rename(root.join(&current), root.join(&old))?;
        std::fs::write(root.join("CURRENT"), &old)?;
        let svc =
            SearchService::open(db.store.clone(), dir.path(), SearchConfig::default()).await?;
        // the old index serves before and while it is rebuilt
        assert_eq!(
            svc.search(t.id, &SearchRequest::new("subsidieaanvraag"))
                .await?
                .total_messages,
            51,
            "{b}"
        );
        let (stop, rx) = watch::channel(false);
        let h = svc.spawn_indexer(rx);
        let head = *db.store.outbox_watch().borrow();
        tokio::time::timeout(Duration::from_secs(60), svc.wait_indexed(head)).await??;
        let now = std::fs::read_to_string(root.join("CURRENT"))?;
        assert!(
            now.starts_with(&format!("v{}-", loket_search::SCHEMA_VERSION)),
            "{b}: rebuilt: {now}"
        );
        assert!(!root.join(&old).exists(), "{b}: old generation removed");
        assert_eq!(
            svc.search(t.id, &SearchRequest::new("subsidieaanvraag"))
                .await?
                .total_messages,
            51,
            "{b}"
        );
        assert!(svc.verify_index(t.id).await?.is_clean(), "{b}");
        stop.send(true)?;
        h.await??;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_are_recorded_in_the_audit_trail() -> Result<(), BoxErr> {
    let db = TestDb::sqlite().await?;
    let t = db.store.create_tenant("gemeente-a", "Gemeente A").await?;
    db.store
        .ingest(
            t.id,
            msg(
                Channel::Sms,
                "+31600000001",
                None,
                "klacht over stankoverlast",
            ),
        )
        .await?;
    let f = Fixture::new(db, SearchConfig::default()).await?;
    f.synced().await?;
    let who = loket_core::Principal {
        tenant: t.id,
        role: loket_core::Role::FoiOfficer,
        actor: loket_core::Actor::User {
            id: "u1".into(),
            name: "Woo-coördinator".into(),
        },
    };
    let p = f
        .svc
        .search_as(&who, &SearchRequest::new("stankoverlast"))
        .await?;
    assert_eq!(p.total_messages, 1);
    let events =
        f.db.store
            .audit_events(
                t.id,
                loket_store::audit::AuditQuery {
                    action: Some("searched".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await?;
    let e = events.last().ok_or("no audit event")?;
    let detail: serde_json::Value = serde_json::from_str(&e.detail)?;
    assert_eq!(detail["query"], "stankoverlast");
    assert_eq!(detail["total_messages"], 1);
    f.stop().await?;
    Ok(())
}
