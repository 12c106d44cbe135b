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

use crate::audit;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::queries::{OutboxKind, hydrate};
use crate::schema::*;
use crate::writer::BatchCtx;
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

/// A validated line, decoded.
struct Decoded {
    line: JsonlMessage,
    raw: Vec<u8>,
    attachments: Vec<Vec<u8>>,
    originals: Vec<Option<Vec<u8>>>,
}

fn decode_line(lineno: usize, text: &str) -> std::result::Result<Decoded, ImportError> {
    let err = |message: String| ImportError {
        line: lineno,
        message,
    };
    let line: JsonlMessage =
        serde_json::from_str(text).map_err(|e| err(format!("not a valid message object: {e}")))?;
    if line.v != FORMAT_VERSION {
        return Err(err(format!(
            "format version {} is not supported (expected {FORMAT_VERSION})",
            line.v
        )));
    }
    let raw = B64
        .decode(line.raw.as_bytes())
        .map_err(|e| err(format!("`raw` is not valid base64: {e}")))?;
    let sha = loket_core::sha256_hex(&raw);
    if sha != line.raw_sha256 {
        return Err(err(format!(
            "`raw` hashes to {sha}, but `raw_sha256` says {}",
            line.raw_sha256
        )));
    }
    let mut attachments = Vec::new();
    for (i, a) in line.attachments.iter().enumerate() {
        let data = B64
            .decode(a.data.as_bytes())
            .map_err(|e| err(format!("attachment {i}: `data` is not valid base64: {e}")))?;
        if loket_core::sha256_hex(&data) != a.sha256 {
            return Err(err(format!(
                "attachment {i}: data does not match its sha256"
            )));
        }
        attachments.push(data);
    }
    let mut originals = Vec::new();
    for (i, e) in line.events.iter().enumerate() {
        e.status
            .parse::<loket_core::DeliveryStatus>()
            .map_err(|x| err(format!("event {i}: {x}")))?;
        let original = match &e.original {
            Some(o) => {
                let bytes = B64
                    .decode(o.as_bytes())
                    .map_err(|x| err(format!("event {i}: `original` is not valid base64: {x}")))?;
                if Some(loket_core::sha256_hex(&bytes)) != e.original_sha256 {
                    return Err(err(format!(
                        "event {i}: original does not match its sha256"
                    )));
                }
                Some(bytes)
            }
            None => None,
        };
        originals.push(original);
    }
    Ok(Decoded {
        line,
        raw,
        attachments,
        originals,
    })
}

/// At most this many bad lines are reported; reading stops soon after.
const MAX_REPORTED_ERRORS: usize = 1000;

/// Lines per unit of validation work handed to a thread.
const VALIDATE_CHUNK: usize = 2048;

/// The outcome of the validation pass.
struct Validated {
    /// Empty = the file is valid; else the first [`MAX_REPORTED_ERRORS`] in line order.
    errors: Vec<ImportError>,
    /// Non-blank lines.
    lines: usize,
    /// Tenants the file names that do not exist yet: (slug, name), by first mention.
    missing: Vec<(String, String)>,
}

/// What one chunk of lines taught the validation pass.
#[derive(Default)]
struct ChunkVerdict {
    lines: usize,
    errors: Vec<ImportError>,
    /// Tenants not known yet: (first line, slug, name).
    new_tenants: Vec<(usize, String, String)>,
}

fn validate_chunk(
    chunk: Vec<(usize, String)>,
    known: &HashSet<String>,
    only_tenant: Option<&str>,
    create_tenants: bool,
) -> ChunkVerdict {
    let mut v = ChunkVerdict::default();
    for (lineno, text) in chunk {
        if text.trim().is_empty() {
            continue;
        }
        v.lines += 1;
        match decode_line(lineno, &text) {
            Err(e) => v.errors.push(e),
            Ok(d) => {
                let slug = d.line.tenant;
                let allowed = match only_tenant {
                    Some(t) => t == slug,
                    None => known.contains(&slug) || create_tenants,
                };
                if !allowed {
                    v.errors.push(ImportError {
                        line: lineno,
                        message: format!("tenant `{slug}` not found"),
                    });
                } else if !known.contains(&slug)
                    && !v.new_tenants.iter().any(|(_, s, _)| *s == slug)
                {
                    v.new_tenants.push((lineno, slug, d.line.tenant_name));
                }
            }
        }
    }
    v
}

/// The validation pass on every core: decoding a line (JSON, base64, SHA-256) is the
/// whole cost of the pass, and the writer has nothing to do until it is over. This
/// thread reads the lines and hands out chunks; the verdicts are merged in line order.
fn validate_lines(
    lines: Box<dyn Iterator<Item = std::io::Result<String>> + Send>,
    known: &HashSet<String>,
    only_tenant: Option<&str>,
    create_tenants: bool,
) -> Result<Validated> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<Vec<(usize, String)>>(workers * 2);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (verdict_tx, verdict_rx) = std::sync::mpsc::channel::<ChunkVerdict>();
    let mut verdicts = Vec::new();
    let read = std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let verdict_tx = verdict_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || {
                loop {
                    // A poisoned lock means another worker panicked; the scope re-raises it.
                    let next = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    let verdict = validate_chunk(chunk, known, only_tenant, create_tenants);
                    if verdict_tx.send(verdict).is_err() {
                        return;
                    }
                }
            });
        }
        drop(verdict_tx);
        let mut chunk = Vec::with_capacity(VALIDATE_CHUNK);
        let mut errors_seen = 0;
        for (i, text) in lines.enumerate() {
            let lineno = i + 1;
            let text =
                text.map_err(|e| StoreError::Invalid(format!("cannot read line {lineno}: {e}")))?;
            chunk.push((lineno, text));
            if chunk.len() == VALIDATE_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(VALIDATE_CHUNK));
                if work_tx.send(full).is_err() {
                    break;
                }
                // Enough errors to report: the rest of the file need not be read.
                for v in verdict_rx.try_iter() {
                    errors_seen += v.errors.len();
                    verdicts.push(v);
                }
                if errors_seen >= MAX_REPORTED_ERRORS {
                    break;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = work_tx.send(chunk);
        }
        drop(work_tx);
        Ok(())
    });
    read?;
    // Every worker has finished (the scope joined them), so every verdict is here.
    verdicts.extend(verdict_rx.try_iter());
    let mut lines = 0;
    let mut errors = Vec::new();
    let mut new_tenants = Vec::new();
    for v in verdicts {
        lines += v.lines;
        errors.extend(v.errors);
        new_tenants.extend(v.new_tenants);
    }
    errors.sort_by_key(|e| e.line);
    errors.truncate(MAX_REPORTED_ERRORS);
    new_tenants.sort_by_key(|(line, _, _)| *line);
    let mut missing: Vec<(String, String)> = Vec::new();
    for (_, slug, name) in new_tenants {
        if !missing.iter().any(|(s, _)| *s == slug) {
            missing.push((slug, name));
        }
    }
    Ok(Validated {
        errors,
        lines,
        missing,
    })
}

impl Store {
    /// Validates every line of `source`.
    async fn validate_jsonl<F>(&self, source: &F, opts: &ImportOptions) -> Result<Validated>
    where
        F: Fn() -> Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>>,
    {
        let known: HashSet<String> = self.tenants().await?.into_iter().map(|t| t.slug).collect();
        let only = opts.only_tenant.as_ref().map(|t| t.slug.as_str());
        validate_lines(source()?, &known, only, opts.create_tenants)
    }

    /// Imports a JSONL file. `source` must yield the same lines each time it is called
    /// (it is read twice: validate, then write).
    pub async fn import_jsonl<F>(
        &self,
        source: F,
        opts: ImportOptions,
    ) -> Result<std::result::Result<ImportReport, Vec<ImportError>>>
    where
        F: Fn() -> Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>>,
    {
        let Validated {
            errors,
            lines,
            missing,
        } = self.validate_jsonl(&source, &opts).await?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let Some(pages) = opts.checkpoint_every_pages else {
            return self.write_jsonl(source, opts, lines, missing).await;
        };
        self.set_checkpoint_every(pages).await?;
        let written = self.write_jsonl(source, opts, lines, missing).await;
        let restored = self.set_checkpoint_every(DEFAULT_CHECKPOINT_PAGES).await;
        let written = written?;
        restored?;
        Ok(written)
    }

    /// Sets the writer connection's `wal_autocheckpoint` (SQLite; nothing on PostgreSQL).
    async fn set_checkpoint_every(&self, pages: u32) -> Result<()> {
        if self.backend() != crate::Backend::Sqlite {
            return Ok(());
        }
        self.write(move |c, _| {
            diesel::connection::SimpleConnection::batch_execute(
                c,
                &format!("PRAGMA wal_autocheckpoint = {pages};"),
            )?;
            Ok(())
        })
        .await
    }

    /// The writing half of [`Self::import_jsonl`], for a file found valid.
    async fn write_jsonl<F>(
        &self,
        source: F,
        opts: ImportOptions,
        lines: usize,
        missing: Vec<(String, String)>,
    ) -> Result<std::result::Result<ImportReport, Vec<ImportError>>>
    where
        F: Fn() -> Result<Box<dyn Iterator<Item = std::io::Result<String>> + Send>>,
    {
        let mut report = ImportReport {
            lines,
            ..Default::default()
        };
        for (slug, name) in missing {
            self.create_tenant(&slug, &name).await?;
            report.tenants_created.push(slug);
        }
        let tenants: HashMap<String, TenantId> = self
            .tenants()
            .await?
            .into_iter()
            .map(|t| (t.slug, t.id))
            .collect();
        let mut batch = Vec::with_capacity(opts.batch_size);
        let mut batches: u64 = 0;
        let mut named_conversations: BTreeMap<TenantId, HashSet<ConversationId>> = BTreeMap::new();
        // The batch the writer is working on while the next one is decoded. Batches are
        // still written one after the other, in file order: the next is handed over only
        // when this one has committed, and an error ends the import there.
        let mut in_flight = None;
        let mut batch_bytes = 0;
        for (i, text) in source()?.enumerate() {
            let text =
                text.map_err(|e| StoreError::Invalid(format!("cannot read line {}: {e}", i + 1)))?;
            if text.trim().is_empty() {
                continue;
            }
            let d = decode_line(i + 1, &text).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let tenant = *tenants
                .get(&d.line.tenant)
                .ok_or_else(|| StoreError::not_found("tenant", &d.line.tenant))?;
            named_conversations
                .entry(tenant)
                .or_default()
                .insert(d.line.conversation_id);
            batch.push((tenant, d));
            batch_bytes += text.len();
            if batch.len() >= opts.batch_size || batch_bytes >= opts.batch_bytes.max(1) {
                let b = std::mem::take(&mut batch);
                batch_bytes = 0;
                if let Some(previous) = in_flight.take() {
                    report.add(previous.await?);
                }
                batches += 1;
                if batches.is_power_of_two() {
                    self.refresh_planner_statistics().await?;
                }
                in_flight = Some(self.enqueue_write_solo(move |c, ctx| import_batch(c, ctx, b))?);
            }
        }
        if let Some(previous) = in_flight.take() {
            report.add(previous.await?);
        }
        if !batch.is_empty() {
            let last = self.enqueue_write_solo(move |c, ctx| import_batch(c, ctx, batch))?;
            report.add(last.await?);
        }
        for (tenant, ids) in named_conversations {
            // One transaction: the summaries sit in five inbox indexes, and a commit per
            // chunk would write nearly every page of them again each time.
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            self.enqueue_write_solo(move |c, _| {
                ids.chunks(IN_CHUNK)
                    .map(|chunk| bring_conversations_up_to_date(c, tenant, chunk))
                    .sum::<Result<usize>>()
            })?
            .await?;
        }
        Ok(Ok(report))
    }

    /// SQLite keeps its WAL file at the largest size a commit made it, and `loket
    /// import`'s batches make it hundreds of MiB. Once they are checkpointed, a TRUNCATE
    /// checkpoint gives the space back. Called by the CLI after an import, not by the
    /// HTTP import: in a serving process it would wait for a gap in live writes. Run from
    /// a pooled connection, as the writer's is always in a transaction; best effort: the
    /// import is complete and durable either way.
    pub async fn truncate_wal(&self) {
        if self.backend() != crate::Backend::Sqlite {
            return;
        }
        let r = self
            .read(|c| {
                diesel::connection::SimpleConnection::batch_execute(
                    c,
                    "PRAGMA wal_checkpoint(TRUNCATE);",
                )?;
                Ok(())
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not truncate the WAL file after the import");
        }
    }

    /// PostgreSQL plans from table statistics, and an import grows the tables faster than
    /// autovacuum refreshes them: with statistics of a near-empty table, the batch's
    /// `idempotency_key = ANY(…)` check became a filter over every message of the tenant
    /// (measured: ~300 messages/s). Refreshed whenever the import has doubled in size.
    /// SQLite needs nothing (its plans here do not depend on statistics).
    async fn refresh_planner_statistics(&self) -> Result<()> {
        if self.backend() != crate::Backend::Postgres {
            return Ok(());
        }
        self.write(|c, _| {
            diesel::sql_query("ANALYZE messages, blobs, contacts, conversations").execute(c)?;
            Ok(())
        })
        .await
    }

    /// Imports JSONL held in memory (the HTTP import).
    pub async fn import_jsonl_bytes(
        &self,
        body: std::sync::Arc<Vec<u8>>,
        opts: ImportOptions,
    ) -> Result<std::result::Result<ImportReport, Vec<ImportError>>> {
        self.import_jsonl(
            move || {
                let body = body.clone();
                let text = String::from_utf8(body.to_vec())
                    .map_err(|e| StoreError::Invalid(format!("the body is not UTF-8: {e}")))?;
                let lines: Vec<std::io::Result<String>> =
                    text.lines().map(|l| Ok(l.to_owned())).collect();
                Ok(Box::new(lines.into_iter()) as Box<dyn Iterator<Item = _> + Send>)
            },
            opts,
        )
        .await
    }

    /// Writes every message (of one tenant, or all) as JSONL, ordered by tenant slug and
    /// message id (UUIDv7, so by time of creation). Returns the number of lines.
    pub async fn export_jsonl(
        &self,
        tenant: Option<TenantId>,
        out: Box<dyn Write + Send>,
    ) -> Result<u64> {
        self.read(move |c| {
            let mut out = std::io::BufWriter::new(out);
            let mut tq = tenants::table.into_boxed();
            if let Some(t) = tenant {
                tq = tq.filter(tenants::id.eq(t.to_string()));
            }
            let tenant_rows: Vec<TenantRow> = tq
                .order(tenants::slug)
                .select(TenantRow::as_select())
                .load(c)?;
            let mut n = 0u64;
            for t in tenant_rows {
                let mut after = String::new();
                loop {
                    let rows: Vec<MessageRow> = messages::table
                        .filter(messages::tenant_id.eq(&t.id))
                        .filter(messages::id.gt(&after))
                        .order(messages::id)
                        .limit(500)
                        .select(MessageRow::as_select())
                        .load(c)?;
                    let Some(last) = rows.last() else { break };
                    after = last.id.clone();
                    for line in export_rows(c, &t, rows)? {
                        serde_json::to_writer(&mut out, &line)
                            .map_err(|e| StoreError::Invalid(e.to_string()))?;
                        out.write_all(b"\n")
                            .map_err(|e| StoreError::Invalid(format!("cannot write: {e}")))?;
                        n += 1;
                    }
                }
            }
            out.flush()
                .map_err(|e| StoreError::Invalid(format!("cannot write: {e}")))?;
            Ok(n)
        })
        .await
    }
}

fn export_rows(
    c: &mut AnyConnection,
    t: &TenantRow,
    rows: Vec<MessageRow>,
) -> Result<Vec<JsonlMessage>> {
    let conv_ids: Vec<String> = rows.iter().map(|r| r.conversation_id.clone()).collect();
    let contact_ids: Vec<String> = rows.iter().map(|r| r.contact_id.clone()).collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let convs: HashMap<String, ConversationRow> = conversations::table
        .filter(conversations::tenant_id.eq(&t.id))
        .filter(conversations::id.eq_any(&conv_ids))
        .select(ConversationRow::as_select())
        .load::<ConversationRow>(c)?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let contacts: HashMap<String, ContactRow> = contacts::table
        .filter(contacts::tenant_id.eq(&t.id))
        .filter(contacts::id.eq_any(&contact_ids))
        .select(ContactRow::as_select())
        .load::<ContactRow>(c)?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let events: Vec<MessageEventRow> = message_events::table
        .filter(message_events::tenant_id.eq(&t.id))
        .filter(message_events::message_id.eq_any(&ids))
        .order((message_events::at, message_events::id))
        .select(MessageEventRow::as_select())
        .load(c)?;
    let mut events_by: HashMap<String, Vec<MessageEventRow>> = HashMap::new();
    for e in events {
        events_by.entry(e.message_id.clone()).or_default().push(e);
    }
    let raws = rows.clone();
    let messages = hydrate(c, &t.id, rows)?;
    let mut out = Vec::with_capacity(messages.len());
    for (m, row) in messages.into_iter().zip(raws) {
        let conv = convs.get(&row.conversation_id).ok_or_else(|| {
            StoreError::Corrupt(format!("conversation of message {} missing", row.id))
        })?;
        let contact = contacts
            .get(&row.contact_id)
            .ok_or_else(|| StoreError::Corrupt(format!("contact of message {} missing", row.id)))?;
        let blob = |c: &mut AnyConnection, sha: &str| -> Result<Vec<u8>> {
            blobs::table
                .filter(blobs::tenant_id.eq(&t.id))
                .filter(blobs::sha256.eq(sha))
                .select(blobs::data)
                .first(c)
                .optional()?
                .ok_or_else(|| StoreError::Corrupt(format!("blob {sha} missing")))
        };
        let raw = blob(c, &m.raw_sha256)?;
        let mut attachments = Vec::new();
        for a in &m.attachments {
            attachments.push(JsonlAttachment {
                id: a.id,
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                content_id: a.content_id.clone(),
                sha256: a.sha256.clone(),
                data: B64.encode(blob(c, &a.sha256)?),
            });
        }
        let mut evs = Vec::new();
        for e in events_by.remove(&row.id).unwrap_or_default() {
            let original = match &e.original_sha256 {
                Some(sha) => Some(B64.encode(blob(c, sha)?)),
                None => None,
            };
            evs.push(JsonlEvent {
                status: e.status,
                detail: e.detail,
                original_sha256: e.original_sha256,
                original,
                at: utc(e.at),
            });
        }
        out.push(JsonlMessage {
            v: FORMAT_VERSION,
            tenant: t.slug.clone(),
            tenant_name: t.name.clone(),
            id: m.id,
            conversation_id: m.conversation_id,
            conversation_token: conv.token.clone(),
            conversation_subject: conv.subject.clone(),
            conversation_created_at: utc(conv.created_at),
            contact_id: m.contact_id,
            contact_address: contact.address.clone(),
            contact_name: contact.name.clone(),
            direction: m.direction,
            channel: m.channel,
            idempotency_key: m.idempotency_key,
            provider_message_id: m.provider_message_id,
            rfc_message_id: m.rfc_message_id,
            from: m.from,
            to: m.to,
            subject: m.subject,
            text: m.text,
            html: m.html,
            sent_at: m.sent_at,
            received_at: m.received_at,
            flags: m.flags,
            parse_warnings: m.parse_warnings,
            author: m.author,
            raw_content_type: m.raw_content_type,
            raw_sha256: m.raw_sha256,
            raw: B64.encode(raw),
            attachments,
            events: evs,
        });
    }
    Ok(out)
}

/// Writes one batch of validated lines with a handful of set-based statements per table
/// (existence checks with `IN (…)`, multi-row `INSERT`s), instead of ~10 statements per
/// message: the import is bound by the single writer, and per-statement overhead was
/// most of its cost.
fn import_batch(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    batch: Vec<(TenantId, Decoded)>,
) -> Result<(usize, usize)> {
    let mut groups: Vec<(TenantId, Vec<Decoded>)> = Vec::new();
    for (tenant, d) in batch {
        match groups.iter_mut().find(|(t, _)| *t == tenant) {
            Some((_, items)) => items.push(d),
            None => groups.push((tenant, vec![d])),
        }
    }
    let mut imported = 0;
    let mut present = 0;
    for (tenant, items) in groups {
        let (i, p) = import_tenant_batch(c, ctx, tenant, items)?;
        imported += i;
        present += p;
    }
    Ok((imported, present))
}

/// Ids per `IN (…)` list.
const IN_CHUNK: usize = 500;

fn import_tenant_batch(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: TenantId,
    items: Vec<Decoded>,
) -> Result<(usize, usize)> {
    let tid = tenant.to_string();
    let ids: Vec<String> = items.iter().map(|d| d.line.id.to_string()).collect();

    // Already present: the same id (an interrupted earlier run), or the same original
    // under the same key, whatever its id (the same message from another export).
    // A message id is global: found under another tenant, the line is refused, not
    // counted as present (as for contacts and conversations, see `missing_rows`).
    let mut known_ids: FxHashSet<String> = FxHashSet::default();
    for chunk in ids.chunks(IN_CHUNK) {
        let found: Vec<(String, String)> = messages::table
            .filter(messages::id.eq_any(chunk))
            .select((messages::id, messages::tenant_id))
            .load(c)?;
        for (id, owner) in found {
            if owner != tid {
                return Err(StoreError::Conflict(format!(
                    "message {id} belongs to another tenant"
                )));
            }
            known_ids.insert(id);
        }
    }
    let mut keys_by_channel: BTreeMap<Channel, Vec<&str>> = BTreeMap::new();
    for d in &items {
        keys_by_channel
            .entry(d.line.channel)
            .or_default()
            .push(&d.line.idempotency_key);
    }
    let mut known_content: FxHashSet<(Channel, String, String)> = FxHashSet::default();
    for (channel, keys) in keys_by_channel {
        for chunk in keys.chunks(IN_CHUNK) {
            let rows: Vec<(String, String)> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::channel.eq(channel.as_str()))
                .filter(messages::idempotency_key.eq_any(chunk))
                .select((messages::idempotency_key, messages::raw_sha256))
                .load(c)?;
            known_content.extend(rows.into_iter().map(|(k, sha)| (channel, k, sha)));
        }
    }
    let mut present = 0;
    let mut accepted: Vec<(String, Decoded)> = Vec::with_capacity(items.len());
    for (id, d) in ids.into_iter().zip(items) {
        let content = (
            d.line.channel,
            d.line.idempotency_key.clone(),
            d.line.raw_sha256.clone(),
        );
        if known_ids.contains(&id) || known_content.contains(&content) {
            present += 1;
            continue;
        }
        known_ids.insert(id.clone());
        known_content.insert(content);
        accepted.push((id, d));
    }
    if accepted.is_empty() {
        return Ok((0, present));
    }

    // Contacts and conversations named by the lines, created when missing.
    let mut contact_ids: Vec<String> = Vec::new();
    let mut contact_rows: FxHashMap<String, ContactRow> = FxHashMap::default();
    let mut conv_ids: Vec<String> = Vec::new();
    let mut conv_rows: FxHashMap<String, ConversationRow> = FxHashMap::default();
    for (_, d) in &accepted {
        let l = &d.line;
        let cid = l.contact_id.to_string();
        if !contact_rows.contains_key(&cid) {
            contact_ids.push(cid.clone());
            contact_rows.insert(
                cid.clone(),
                ContactRow {
                    id: cid.clone(),
                    tenant_id: tid.clone(),
                    channel: l.channel.as_str().to_owned(),
                    address: l.contact_address.clone(),
                    name: l.contact_name.clone(),
                    created_at: ts(l.conversation_created_at),
                },
            );
        }
        let conv = l.conversation_id.to_string();
        let at = ts(l.received_at);
        match conv_rows.get_mut(&conv) {
            Some(row) => row.last_message_at = row.last_message_at.max(at),
            None => {
                conv_ids.push(conv.clone());
                conv_rows.insert(
                    conv.clone(),
                    ConversationRow {
                        id: conv,
                        tenant_id: tid.clone(),
                        contact_id: cid,
                        channel: l.channel.as_str().to_owned(),
                        token: l.conversation_token.clone(),
                        subject: l.conversation_subject.clone(),
                        status: "open".into(),
                        assignee: None,
                        created_at: ts(l.conversation_created_at),
                        last_message_at: at,
                    },
                );
            }
        }
    }
    let new_contacts = missing_rows(
        c,
        &tid,
        "contact",
        &contact_ids,
        contact_rows,
        |c, chunk| {
            contacts::table
                .filter(contacts::id.eq_any(chunk))
                .select((contacts::id, contacts::tenant_id))
                .load(c)
        },
    )?;
    insert_rows(c, &new_contacts, 6)?;

    // Conversations that exist keep their summary until the import ends
    // (`bring_conversations_up_to_date`): moving `last_message_at`, which five inbox
    // indexes hold, once per batch was a sixth of the import's time.
    let new_convs = missing_rows(c, &tid, "conversation", &conv_ids, conv_rows, |c, chunk| {
        conversations::table
            .filter(conversations::id.eq_any(chunk))
            .select((conversations::id, conversations::tenant_id))
            .load(c)
    })?;
    insert_rows(c, &new_convs, 10)?;

    // Blobs: originals, attachments and sent originals, each stored once per tenant.
    fn add_blob<'a>(
        order: &mut Vec<NewBlob<'a>>,
        seen: &mut FxHashSet<&'a str>,
        tenant_id: &'a str,
        sha256: &'a str,
        data: &'a [u8],
    ) {
        if seen.insert(sha256) {
            order.push(NewBlob {
                tenant_id,
                sha256,
                size: data.len() as i64,
                data,
            });
        }
    }
    let mut blob_order: Vec<NewBlob<'_>> = Vec::new();
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    for (_, d) in &accepted {
        add_blob(&mut blob_order, &mut seen, &tid, &d.line.raw_sha256, &d.raw);
        for (a, data) in d.line.attachments.iter().zip(&d.attachments) {
            add_blob(&mut blob_order, &mut seen, &tid, &a.sha256, data);
        }
        for (e, original) in d.line.events.iter().zip(&d.originals) {
            if let (Some(sha), Some(bytes)) = (&e.original_sha256, original) {
                add_blob(&mut blob_order, &mut seen, &tid, sha, bytes);
            }
        }
    }
    // In hash order, the inserts walk the blobs' primary-key index from one end to the
    // other, each leaf page fetched and changed once; in file order they hit it at
    // random, and pages dropped from the cache were read and written again (measured:
    // 10 % of a 1M-message import).
    blob_order.sort_unstable_by(|a, b| a.sha256.cmp(b.sha256));
    crate::ingest::insert_blobs(c, &blob_order)?;

    // The messages themselves, then what hangs off them, the audit events and the outbox.
    let mut message_rows = Vec::with_capacity(accepted.len());
    let mut attachment_rows = Vec::new();
    let mut event_rows = Vec::new();
    let mut audit_rows = Vec::with_capacity(accepted.len());
    let mut outbox_rows = Vec::with_capacity(accepted.len());
    let now = ts(loket_core::now());
    for (mid, d) in accepted {
        let Decoded {
            line: l,
            raw,
            attachments: attachment_data,
            ..
        } = d;
        for (ordinal, a) in l.attachments.iter().enumerate() {
            attachment_rows.push(AttachmentRow {
                id: a.id.to_string(),
                tenant_id: tid.clone(),
                message_id: mid.clone(),
                ordinal: ordinal as i32,
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                content_id: a.content_id.clone(),
                sha256: a.sha256.clone(),
                size: attachment_data.get(ordinal).map_or(0, |d| d.len() as i64),
            });
        }
        for e in &l.events {
            event_rows.push(MessageEventRow {
                id: uuid::Uuid::now_v7().to_string(),
                tenant_id: tid.clone(),
                message_id: mid.clone(),
                status: e.status.clone(),
                detail: e.detail.clone(),
                original_sha256: e.original_sha256.clone(),
                at: ts(e.at),
            });
        }
        audit_rows.push(audit::chain(
            c,
            ctx,
            tenant,
            "system:import",
            AuditAction::MessageImported,
            &AuditSubject::new("message", l.id),
            &serde_json::json!({"sha256": l.raw_sha256, "source": "jsonl"}).to_string(),
        )?);
        let conv = l.conversation_id.to_string();
        outbox_rows.push(OutboxRow {
            seq: ctx.take_outbox_seq(c)?,
            tenant_id: tid.clone(),
            kind: OutboxKind::MessageImported.as_str().to_owned(),
            message_id: Some(mid.clone()),
            conversation_id: Some(conv.clone()),
            created_at: now,
        });
        let mut flags = l.flags;
        flags.sort();
        flags.dedup();
        message_rows.push(MessageRow {
            id: mid,
            tenant_id: tid.clone(),
            conversation_id: conv,
            contact_id: l.contact_id.to_string(),
            direction: l.direction.as_str().to_owned(),
            channel: l.channel.as_str().to_owned(),
            idempotency_key: l.idempotency_key,
            provider_message_id: l.provider_message_id,
            rfc_message_id: l.rfc_message_id,
            from_address: l.from.address,
            from_name: l.from.name,
            to_json: to_json(&l.to)?,
            subject: l.subject,
            body_text: l.text,
            body_html: l.html,
            sent_at: l.sent_at.map(ts),
            received_at: ts(l.received_at),
            raw_sha256: l.raw_sha256,
            raw_size: raw.len() as i64,
            raw_content_type: l.raw_content_type,
            flags_json: to_json(&flags)?,
            parse_warnings_json: to_json(&l.parse_warnings)?,
            author: l.author,
        });
    }
    let imported = message_rows.len();
    insert_rows(c, &message_rows, 23)?;
    insert_rows(c, &attachment_rows, 9)?;
    insert_rows(c, &event_rows, 7)?;
    insert_rows(c, &audit_rows, 11)?;
    insert_rows(c, &outbox_rows, 6)?;
    Ok((imported, present))
}

/// The rows of `ids` (in that order) that are not in the database yet. `load` returns
/// (id, tenant) of the ids found; one found under another tenant refuses the batch.
/// Looked up by id alone and checked for the tenant here: with `tenant_id = ? AND id IN
/// (…)` SQLite's planner may scan the tenant's whole index instead of the primary key.
fn missing_rows<R>(
    c: &mut AnyConnection,
    tid: &str,
    kind: &str,
    ids: &[String],
    mut rows: FxHashMap<String, R>,
    load: impl Fn(&mut AnyConnection, &[String]) -> QueryResult<Vec<(String, String)>>,
) -> Result<Vec<R>> {
    let mut existing: FxHashSet<String> = FxHashSet::default();
    for chunk in ids.chunks(IN_CHUNK) {
        for (id, owner) in load(c, chunk)? {
            if owner != tid {
                return Err(StoreError::Conflict(format!(
                    "{kind} {id} belongs to another tenant"
                )));
            }
            existing.insert(id);
        }
    }
    Ok(ids
        .iter()
        .filter(|id| !existing.contains(*id))
        .filter_map(|id| rows.remove(id))
        .collect())
}

/// Moves each named conversation's `last_message_at` up to its latest message, where the
/// import added later ones. Runs once at the end of an import, over every conversation
/// the file names (also those of lines found already present, so that rerunning an
/// import interrupted before this step completes it). Never moves a summary back: a
/// message ingested meanwhile may be later than anything in the file.
fn bring_conversations_up_to_date(
    c: &mut AnyConnection,
    tenant: TenantId,
    ids: &[String],
) -> Result<usize> {
    let tid = tenant.to_string();
    let latest: Vec<(String, Option<chrono::NaiveDateTime>)> = messages::table
        .filter(messages::tenant_id.eq(&tid))
        .filter(messages::conversation_id.eq_any(ids))
        .group_by(messages::conversation_id)
        .select((
            messages::conversation_id,
            diesel::dsl::max(messages::received_at),
        ))
        .load(c)?;
    let stored: HashMap<String, chrono::NaiveDateTime> = conversations::table
        .filter(conversations::id.eq_any(ids))
        .filter(conversations::tenant_id.eq(&tid))
        .select((conversations::id, conversations::last_message_at))
        .load(c)?
        .into_iter()
        .collect();
    let mut moved = 0;
    for (id, latest) in latest {
        let Some(latest) = latest else { continue };
        if stored.get(&id).is_some_and(|s| *s < latest) {
            let bump = diesel::update(conversations::table.filter(conversations::id.eq(&id)))
                .set(conversations::last_message_at.eq(latest));
            crate::conn::execute_cached!(c, bump)?;
            moved += 1;
        }
    }
    Ok(moved)
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
