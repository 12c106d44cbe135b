//! Writing a valid file: batches of lines, each written with a handful of set-based
//! statements in a transaction of its own, the next batch decoded meanwhile.

use super::validate::{Decoded, Validated, decode_line};
use super::*;

impl Store {
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
    crate::blobs::insert_blobs(c, &blob_order)?;

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
