//! The export: every message of a tenant (or all) as JSONL, in a stable order, so export
//! → import into an empty database → export is byte-identical.

use super::*;

impl Store {
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
