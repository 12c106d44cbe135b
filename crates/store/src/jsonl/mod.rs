//! The interchange format: one message per line, raw original base64-encoded
//! (schema in `docs/jsonl-format.md`). Export → import into an empty database → export
//! is byte-identical: ids, times and every derived field travel with the message.
//!
//! Import is two-phase: the whole file is validated first, and a file with any bad line
//! is rejected as a whole (every bad line reported with its number), so nothing of a
//! bad file is half-imported. The valid file is then written in batches; each message
//! is keyed by its id, so rerunning an import interrupted by a crash completes it
//! without duplicates. Conversations that already existed get their `last_message_at`
//! moved up once, after the last batch (`bring_conversations_up_to_date`); a rerun does
//! that too, for every conversation the file names.
//!
//! Files by purpose: this one holds the format (the line types and the limits);
//! `validate.rs` the validation pass (decoding every line on every core),
//! `import.rs` the writing of a valid file in batches, `export.rs` the export.

mod export;
mod import;
mod validate;

use crate::audit;
use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::queries::{OutboxKind, hydrate};
use crate::schema::*;
use crate::{Result, Store, StoreError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use diesel::prelude::*;
use loket_core::{
    Address, AttachmentId, AuditAction, AuditSubject, Channel, ContactId, ConversationId,
    Direction, MessageFlag, MessageId, Tenant, TenantId, Timestamp,
};
use serde::{Deserialize, Serialize};
// The writer's per-batch sets and maps hash ids it made or an admin's file supplied
// (SipHash was 1.4 % of an import's samples; there is no untrusted input here to resist).
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

pub const FORMAT_VERSION: u32 = 1;

/// Messages per import transaction in a running server (`POST /api/v1/imports`): while a
/// batch is written the writer serves nothing else, so live ingest waits for it.
pub const DEFAULT_BATCH_SIZE: u32 = 10_000;

/// Messages per import transaction for `loket import`, a migration usually run alone:
/// larger batches write each touched index page fewer times (in `ops/bench/ingest`,
/// 200,000 was 3 % faster than 100,000, which was 7 % faster than 50,000), at about 2 KB
/// of memory per short message. [`MAX_BATCH_BYTES`] bounds a batch of large messages.
pub const BULK_BATCH_SIZE: u32 = 200_000;

/// A batch also ends once its lines add up to this many bytes, so that a batch of
/// e-mails with attachments does not need gigabytes: the import holds two batches in
/// memory (one being written, the next being decoded), each as JSONL text and decoded.
/// 256 MiB let a realistic mix peak at 1.14 GB RSS; at 64 MiB a batch of that
/// mix still holds about 20,000 messages, enough to amortise a transaction.
pub const MAX_BATCH_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonlAttachment {
    pub id: AttachmentId,
    pub filename: Option<String>,
    pub content_type: String,
    pub content_id: Option<String>,
    pub sha256: String,
    /// Base64 (standard alphabet, padded).
    pub data: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonlEvent {
    pub status: String,
    pub detail: Option<String>,
    pub original_sha256: Option<String>,
    /// Base64 of the channel's exact sent bytes, when archived.
    pub original: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonlMessage {
    pub v: u32,
    pub tenant: String,
    pub tenant_name: String,
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub conversation_token: String,
    pub conversation_subject: Option<String>,
    pub conversation_created_at: Timestamp,
    pub contact_id: ContactId,
    pub contact_address: String,
    pub contact_name: Option<String>,
    pub direction: Direction,
    pub channel: Channel,
    pub idempotency_key: String,
    pub provider_message_id: Option<String>,
    pub rfc_message_id: Option<String>,
    pub from: Address,
    pub to: Vec<Address>,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub received_at: Timestamp,
    pub flags: Vec<MessageFlag>,
    pub parse_warnings: Vec<String>,
    pub author: Option<String>,
    pub raw_content_type: String,
    pub raw_sha256: String,
    /// Base64 (standard alphabet, padded) of the byte-exact original.
    pub raw: String,
    pub attachments: Vec<JsonlAttachment>,
    pub events: Vec<JsonlEvent>,
}

/// A rejected line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ImportError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub lines: usize,
    pub imported: usize,
    /// Lines whose message id was already present (an earlier, interrupted run).
    pub already_present: usize,
    pub tenants_created: Vec<String>,
    /// Transactions the lines were written in (batches end at `batch_size` lines or
    /// `batch_bytes` bytes).
    pub batches: usize,
}

impl ImportReport {
    /// Counts one written batch: (imported, already present).
    fn add(&mut self, (imported, present): (usize, usize)) {
        self.batches += 1;
        self.imported += imported;
        self.already_present += present;
    }
}

/// Who may import what.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Only lines of this tenant are accepted (HTTP import with a tenant's admin token).
    pub only_tenant: Option<Tenant>,
    /// Create tenants named in the file that do not exist yet (CLI migration).
    pub create_tenants: bool,
    pub batch_size: usize,
    /// A batch also ends once its lines add up to this many bytes ([`MAX_BATCH_BYTES`]).
    pub batch_bytes: usize,
    /// SQLite: WAL pages between checkpoints while this import writes (None: SQLite's
    /// default of 1,000, restored when the import ends). A checkpoint copies each page
    /// once however many commits changed it, and an import's batches change the same
    /// index pages again and again; with [`BULK_CHECKPOINT_PAGES`] a 1M-message import
    /// was 5–8 % faster. The WAL file grows to about this many pages plus one batch, so
    /// it is for `loket import`, which gives the space back when done
    /// ([`Store::truncate_wal`]).
    pub checkpoint_every_pages: Option<u32>,
}

/// [`ImportOptions::checkpoint_every_pages`] for `loket import`: 100,000 pages of 4 KiB.
pub const BULK_CHECKPOINT_PAGES: u32 = 100_000;

/// SQLite's own `wal_autocheckpoint` default, which every other write runs with.
const DEFAULT_CHECKPOINT_PAGES: u32 = 1_000;

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            only_tenant: None,
            create_tenants: false,
            batch_size: DEFAULT_BATCH_SIZE as usize,
            batch_bytes: MAX_BATCH_BYTES,
            checkpoint_every_pages: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use loket_core::Inbound;

    async fn checkpoint_interval(store: &Store) -> i64 {
        #[derive(QueryableByName)]
        struct Pages {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            wal_autocheckpoint: i64,
        }
        store
            .write(|c, _| {
                let p: Pages = diesel::sql_query("PRAGMA wal_autocheckpoint").get_result(c)?;
                Ok(p.wal_autocheckpoint)
            })
            .await
            .expect("pragma")
    }

    fn one_line(
        line: String,
    ) -> impl Fn() -> Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>> {
        move || Ok(Box::new(std::iter::once(Ok(line.clone()))))
    }

    fn bulk(create_tenants: bool) -> ImportOptions {
        ImportOptions {
            create_tenants,
            checkpoint_every_pages: Some(BULK_CHECKPOINT_PAGES),
            ..Default::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_import_leaves_the_writer_checkpointing_as_before_even_when_it_fails() {
        // The bulk setting must not outlive the import: a server that went on with it
        // would let its WAL file grow to hundreds of MiB.
        let db = TestDb::sqlite().await.expect("sqlite");
        let t = db
            .store
            .create_tenant("urk", "Gemeente Urk")
            .await
            .expect("tenant");
        let m = Inbound::new(
            Channel::Webchat,
            Address::new("session:a"),
            "vraag",
            b"{\"text\":\"vraag\"}".to_vec(),
        );
        db.store.ingest(t.id, m).await.expect("ingest");
        let path = db.dir.join("export.jsonl");
        let file = std::fs::File::create(&path).expect("create");
        db.store
            .export_jsonl(Some(t.id), Box::new(file))
            .await
            .expect("export");
        let line = std::fs::read_to_string(&path).expect("read");
        assert_eq!(checkpoint_interval(&db.store).await, 1000);

        let report = db
            .store
            .import_jsonl(one_line(line.trim().to_owned()), bulk(false))
            .await;
        assert_eq!(report.expect("ran").expect("valid").already_present, 1);
        assert_eq!(checkpoint_interval(&db.store).await, 1000);

        // The same contact under another tenant: refused while writing, after validation.
        let elsewhere = line.replacen("\"tenant\":\"urk\"", "\"tenant\":\"ens\"", 1);
        let refused = db
            .store
            .import_jsonl(one_line(elsewhere.trim().to_owned()), bulk(true))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
        assert_eq!(checkpoint_interval(&db.store).await, 1000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_ends_at_its_byte_bound() {
        // Six exported messages of about 250 bytes a line, imported into a fresh archive.
        let source = TestDb::sqlite().await.expect("sqlite");
        let t = source
            .store
            .create_tenant("urk", "Gemeente Urk")
            .await
            .expect("tenant");
        for i in 0..6 {
            let text = format!("vraag {i} over de vergunning");
            let raw = format!("{{\"text\":\"{text}\"}}").into_bytes();
            let m = Inbound::new(Channel::Webchat, Address::new("session:a"), &text, raw);
            source.store.ingest(t.id, m).await.expect("ingest");
        }
        let path = source.dir.join("export.jsonl");
        let file = std::fs::File::create(&path).expect("create");
        source
            .store
            .export_jsonl(Some(t.id), Box::new(file))
            .await
            .expect("export");
        let lines: Vec<String> = std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.len(), 6);
        let longest = lines.iter().map(String::len).max().unwrap_or(0);
        for (bound, expected) in [(usize::MAX, 1), (2 * longest + 1, 2), (1, 6)] {
            let target = TestDb::sqlite().await.expect("sqlite");
            let all = lines.clone();
            let report = target
                .store
                .import_jsonl(
                    move || Ok(Box::new(all.clone().into_iter().map(Ok)) as Box<_>),
                    ImportOptions {
                        batch_bytes: bound,
                        ..bulk(true)
                    },
                )
                .await
                .expect("ran")
                .expect("valid");
            assert_eq!(report.imported, 6, "bound {bound}");
            // Under 2×longest+1 bytes the third line ends a batch: 3 + 3 lines.
            assert_eq!(report.batches, expected, "bound {bound}");
        }
    }
}
