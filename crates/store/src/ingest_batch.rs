//! Ingest of a group of messages with a few statements for the whole group.
//!
//! The writer gathers the ingests that arrive while it is busy (group commit). Written one
//! by one, each costs about a dozen statements; on PostgreSQL every statement is a round
//! trip and a parse/bind/execute in the server, which bounded single-message ingest at
//! ~460 msg/s. Here the group is written as if its messages had been ingested
//! one after another in order (`ingest::ingest_one_returning`), with the same results, but
//! each lookup is one `IN (…)` query for the group and each table gets one multi-row insert.
//!
//! Ordering within the group is kept: a message that duplicates an earlier one of the
//! group is a duplicate, a reply to an earlier one joins its conversation, a second chat
//! line of a new contact joins the conversation the first one opened.
//!
//! The outbox and audit rows are appended last, so on PostgreSQL the write lock (see
//! `writer.rs`) is held only for those and the commit. Any database error fails the whole
//! call; the writer then rolls its savepoint back and writes the group one by one, so one
//! bad message never fails the others.
//!
//! Several nodes: the lookups run before the write lock, so two nodes that receive the
//! first messages of one new contact at the same moment may each open a conversation for
//! it (the contact itself stays one row: see `insert_contacts`). Before the lock only new
//! rows are inserted; the conversations a group joins are updated under the lock, so a
//! lock holder never waits for a row of a node that waits for the lock.
//!
//! Longer than 600 lines on purpose: the lookups, the in-order decisions and the inserts
//! are one algorithm whose parts must agree, and they read best side by side.

use crate::audit;
use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::ingest::Ingested;
use crate::message_write::{NewMessage, Written, attachment_rows, message_row};
use crate::models::*;
use crate::queries::OutboxKind;
use crate::schema::*;
use crate::{Result, Store, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use loket_core::thread::{join_thread, parse_outbound_message_id};
use loket_core::{
    AuditAction, AuditSubject, Channel, ContactId, ConversationHint, ConversationId,
    ConversationStatus, Direction, Inbound, MessageId, TenantId, conversation_token, sha256_hex,
};
use std::collections::{HashMap, HashSet};

/// One message for [`ingest_group`].
pub(crate) struct IngestItem {
    pub tenant: TenantId,
    pub inbound: Inbound,
}

/// (tenant, channel, idempotency key) of a message.
type KeyOf = (String, String, String);
/// (message id, conversation id, SHA-256 of the original) of a message stored earlier.
type Earlier = (String, String, String);

/// Ids per `IN (…)` list: well below every backend's limit on bind parameters.
const IN_CHUNK: usize = 500;

/// What the group knows about a conversation it may join or touch.
#[derive(Clone)]
struct ConvState {
    tenant: String,
    contact: String,
    open: bool,
    last_message_at: NaiveDateTime,
    /// For the new-topic split of the threading rule.
    subject: Option<String>,
}

/// A message of the group that is new (not a duplicate): written after the lookups.
struct NewOne {
    index: usize,
    tenant: TenantId,
    tid: String,
    message: MessageRow,
    attachments: Vec<AttachmentRow>,
    channel: Channel,
    key_conflict: bool,
}

/// Writes `items` in order; one result per item (a refused item does not stop the
/// others). `Err` only for a database error, after which nothing of the group may be kept.
pub(crate) fn ingest_group(
    conn: &mut AnyConnection,
    ctx: &mut BatchCtx,
    items: &[IngestItem],
) -> Result<Vec<Result<(Ingested, Written)>>> {
    let tids: Vec<String> = distinct(items.iter().map(|i| i.tenant.to_string()));
    let known_tenants: HashSet<String> = tenants::table
        .filter(tenants::id.eq_any(&tids))
        .select(tenants::id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let keys: Vec<String> = items
        .iter()
        .map(|i| i.inbound.effective_idempotency_key())
        .collect();
    let shas: Vec<String> = items.iter().map(|i| sha256_hex(&i.inbound.raw)).collect();
    // Every lookup names the leading columns of its index with `=` and only the last with
    // `IN`: with `tenant IN (…) AND channel IN (…)` PostgreSQL's generic plan (prepared
    // statements) used the tenant alone and filtered all of a tenant's rows.
    let mut pairs: Vec<(String, String)> = Vec::new();
    for i in items {
        let pair = (i.tenant.to_string(), i.inbound.channel.as_str().to_owned());
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    let of_pair = |pair: &(String, String), f: &dyn Fn(&IngestItem) -> String| -> Vec<String> {
        distinct(
            items
                .iter()
                .filter(|i| i.tenant.to_string() == pair.0 && i.inbound.channel.as_str() == pair.1)
                .map(f),
        )
    };

    // Earlier messages under the same (tenant, channel, key), and contacts by
    // (tenant, channel, address).
    let mut seen: HashMap<KeyOf, Vec<Earlier>> = HashMap::new();
    let mut contacts_by_addr: HashMap<(String, String, String), String> = HashMap::new();
    for pair in &pairs {
        let (tid, channel) = pair;
        let pair_keys = of_pair(pair, &|i| i.inbound.effective_idempotency_key());
        for chunk in pair_keys.chunks(IN_CHUNK) {
            let rows: Vec<(String, String, String, String)> = messages::table
                .filter(messages::tenant_id.eq(tid))
                .filter(messages::channel.eq(channel))
                .filter(messages::idempotency_key.eq_any(chunk))
                .select((
                    messages::idempotency_key,
                    messages::id,
                    messages::conversation_id,
                    messages::raw_sha256,
                ))
                .load(conn)?;
            for (k, id, conv, sha) in rows {
                seen.entry((tid.clone(), channel.clone(), k))
                    .or_default()
                    .push((id, conv, sha));
            }
        }
        let addresses = of_pair(pair, &|i| i.inbound.from.address.clone());
        for chunk in addresses.chunks(IN_CHUNK) {
            let rows: Vec<(String, String)> = contacts::table
                .filter(contacts::tenant_id.eq(tid))
                .filter(contacts::channel.eq(channel))
                .filter(contacts::address.eq_any(chunk))
                .select((contacts::address, contacts::id))
                .load(conn)?;
            for (a, id) in rows {
                contacts_by_addr.insert((tid.clone(), channel.clone(), a), id);
            }
        }
    }

    // Conversations the group may join: named ones, those of referenced Message-IDs and
    // tokens, and the open ones of its contacts.
    let mut rfc_to_conv: HashMap<(String, String), String> = HashMap::new();
    let mut token_to_conv: HashMap<(String, String), String> = HashMap::new();
    let mut candidates: HashSet<String> = HashSet::new();
    let mut references: HashMap<String, Vec<String>> = HashMap::new();
    // loket's own outbound Message-IDs name the message: (tenant, message id).
    let mut outbound_ids: HashMap<String, Vec<String>> = HashMap::new();
    let mut tokens: HashMap<String, Vec<String>> = HashMap::new();
    for i in items {
        match &i.inbound.conversation {
            ConversationHint::Conversation(id) => {
                candidates.insert(id.to_string());
            }
            ConversationHint::Thread {
                references: r,
                token,
            } => {
                let tid = i.tenant.to_string();
                outbound_ids.entry(tid.clone()).or_default().extend(
                    r.iter()
                        .filter_map(|r| parse_outbound_message_id(r))
                        .map(|id| id.to_string()),
                );
                references
                    .entry(tid.clone())
                    .or_default()
                    .extend(r.iter().cloned());
                tokens
                    .entry(tid)
                    .or_default()
                    .extend(token.iter().map(|t| t.to_ascii_uppercase()));
            }
            ConversationHint::LatestOpenOfContact | ConversationHint::New => {}
        }
    }
    for (tid, refs) in references {
        for chunk in distinct(refs.into_iter()).chunks(IN_CHUNK) {
            let rows: Vec<(Option<String>, String)> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::rfc_message_id.eq_any(chunk))
                .select((messages::rfc_message_id, messages::conversation_id))
                .load(conn)?;
            for (rfc, conv) in rows {
                if let Some(rfc) = rfc {
                    candidates.insert(conv.clone());
                    rfc_to_conv.entry((tid.clone(), rfc)).or_insert(conv);
                }
            }
        }
    }
    let mut outbound_to_conv: HashMap<(String, String), String> = HashMap::new();
    for (tid, ids) in outbound_ids {
        for chunk in distinct(ids.into_iter()).chunks(IN_CHUNK) {
            let rows: Vec<(String, String)> = messages::table
                .filter(messages::tenant_id.eq(&tid))
                .filter(messages::id.eq_any(chunk))
                .select((messages::id, messages::conversation_id))
                .load(conn)?;
            for (id, conv) in rows {
                candidates.insert(conv.clone());
                outbound_to_conv.insert((tid.clone(), id), conv);
            }
        }
    }
    for (tid, toks) in tokens {
        for chunk in distinct(toks.into_iter()).chunks(IN_CHUNK) {
            let rows: Vec<(String, String)> = conversations::table
                .filter(conversations::tenant_id.eq(&tid))
                .filter(conversations::token.eq_any(chunk))
                .select((conversations::token, conversations::id))
                .load(conn)?;
            for (token, id) in rows {
                candidates.insert(id.clone());
                token_to_conv.entry((tid.clone(), token)).or_insert(id);
            }
        }
    }
    let mut convs: HashMap<String, ConvState> = HashMap::new();
    let candidates: Vec<String> = candidates.into_iter().collect();
    for chunk in candidates.chunks(IN_CHUNK) {
        load_conv_states(
            conn,
            conversations::table
                .filter(conversations::id.eq_any(chunk))
                .into_boxed(),
            &mut convs,
        )?;
    }
    let mut latest_contacts: HashMap<String, Vec<String>> = HashMap::new();
    for i in items {
        if !matches!(
            i.inbound.conversation,
            ConversationHint::LatestOpenOfContact
        ) {
            continue;
        }
        let tid = i.tenant.to_string();
        let key = (
            tid.clone(),
            i.inbound.channel.as_str().to_owned(),
            i.inbound.from.address.clone(),
        );
        if let Some(contact) = contacts_by_addr.get(&key) {
            latest_contacts
                .entry(tid)
                .or_default()
                .push(contact.clone());
        }
    }
    for (tid, contacts) in latest_contacts {
        for chunk in distinct(contacts.into_iter()).chunks(IN_CHUNK) {
            load_conv_states(
                conn,
                conversations::table
                    .filter(conversations::tenant_id.eq(&tid))
                    .filter(conversations::contact_id.eq_any(chunk))
                    .filter(conversations::status.ne(ConversationStatus::Closed.as_str()))
                    .into_boxed(),
                &mut convs,
            )?;
        }
    }

    // Decide every item in order, as one-by-one ingest would.
    let now = loket_core::now();
    let mut results: Vec<Option<Result<(Ingested, Written)>>> =
        items.iter().map(|_| None).collect();
    let mut new_contacts: Vec<ContactRow> = Vec::new();
    let mut new_convs: Vec<ConversationRow> = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    let mut new_ones: Vec<NewOne> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let tid = item.tenant.to_string();
        if !known_tenants.contains(&tid) {
            results[index] = Some(Err(StoreError::not_found("tenant", item.tenant)));
            continue;
        }
        let inbound = &item.inbound;
        let channel = inbound.channel.as_str().to_owned();
        let seen_key = (tid.clone(), channel.clone(), keys[index].clone());
        let earlier = seen.get(&seen_key).cloned().unwrap_or_default();
        if let Some((id, conv, _)) = earlier.iter().find(|(_, _, sha)| *sha == shas[index]) {
            results[index] = Some(Ok((
                Ingested {
                    message_id: parse("message id", id)?,
                    conversation_id: parse("conversation id", conv)?,
                    duplicate: true,
                    key_conflict: false,
                    seq: None,
                },
                None,
            )));
            continue;
        }
        let key_conflict = !earlier.is_empty();
        let received_at = inbound
            .received_at
            .map(loket_core::to_micros)
            .unwrap_or(now);
        let received = ts(received_at);
        let addr_key = (tid.clone(), channel.clone(), inbound.from.address.clone());
        let contact = match contacts_by_addr.get(&addr_key) {
            Some(id) => id.clone(),
            None => {
                let row = ContactRow {
                    id: ContactId::new().to_string(),
                    tenant_id: tid.clone(),
                    channel: channel.clone(),
                    address: inbound.from.address.clone(),
                    name: inbound.from.name.clone(),
                    created_at: ts(now),
                };
                contacts_by_addr.insert(addr_key, row.id.clone());
                let id = row.id.clone();
                new_contacts.push(row);
                id
            }
        };
        let found = match &inbound.conversation {
            ConversationHint::Conversation(id) => {
                let id = id.to_string();
                match convs.get(&id) {
                    Some(c) if c.tenant == tid => Some(id),
                    _ => {
                        results[index] = Some(Err(StoreError::not_found("conversation", id)));
                        continue;
                    }
                }
            }
            ConversationHint::Thread { references, token } => {
                // The one threading rule, as the single ingest applies it
                // (`placement::thread_conversation`), on the group's lookups.
                let by_reference = references.iter().rev().find_map(|r| {
                    parse_outbound_message_id(r)
                        .and_then(|id| outbound_to_conv.get(&(tid.clone(), id.to_string())))
                        .or_else(|| rfc_to_conv.get(&(tid.clone(), r.clone())))
                        .cloned()
                });
                let by_token = token.as_ref().and_then(|t| {
                    token_to_conv
                        .get(&(tid.clone(), t.to_ascii_uppercase()))
                        .cloned()
                });
                let reference_subject = match (&by_reference, &by_token) {
                    (Some(c), None) => convs.get(c).and_then(|s| s.subject.clone()),
                    _ => None,
                };
                join_thread(
                    by_reference.map(|c| (c, reference_subject.as_deref())),
                    by_token,
                    inbound.subject.as_deref(),
                    &inbound.text,
                )
            }
            ConversationHint::LatestOpenOfContact => convs
                .iter()
                .filter(|(_, c)| c.open && c.contact == contact && c.tenant == tid)
                .max_by_key(|(_, c)| c.last_message_at)
                .map(|(id, _)| id.clone()),
            ConversationHint::New => None,
        };
        let conversation = match found {
            Some(id) => {
                if let Some(c) = convs.get_mut(&id) {
                    c.open = true;
                    c.last_message_at = received;
                }
                if !new_convs.iter().any(|c| c.id == id) && !touched.contains(&id) {
                    touched.push(id.clone());
                }
                if let Some(row) = new_convs.iter_mut().find(|c| c.id == id) {
                    row.last_message_at = received;
                }
                id
            }
            None => {
                let cid = ConversationId::new();
                let row = ConversationRow {
                    id: cid.to_string(),
                    tenant_id: tid.clone(),
                    contact_id: contact.clone(),
                    channel: channel.clone(),
                    token: conversation_token(cid),
                    subject: inbound.subject.clone(),
                    status: ConversationStatus::Open.as_str().to_owned(),
                    assignee: None,
                    created_at: received,
                    last_message_at: received,
                };
                convs.insert(
                    row.id.clone(),
                    ConvState {
                        tenant: tid.clone(),
                        contact: contact.clone(),
                        open: true,
                        last_message_at: received,
                        subject: inbound.subject.clone(),
                    },
                );
                token_to_conv.insert((tid.clone(), row.token.clone()), row.id.clone());
                let id = row.id.clone();
                new_convs.push(row);
                id
            }
        };
        let message = message_row(NewMessage {
            id: MessageId::new(),
            tenant: &tid,
            conversation: &conversation,
            contact: &contact,
            direction: Direction::Inbound,
            inbound,
            key: keys[index].clone(),
            raw_sha: shas[index].clone(),
            received_at,
            author: None,
            key_conflict,
        })?;
        let attachments = attachment_rows(inbound, &message);
        seen.entry(seen_key).or_default().push((
            message.id.clone(),
            conversation.clone(),
            shas[index].clone(),
        ));
        if let Some(rfc) = &inbound.rfc_message_id {
            rfc_to_conv
                .entry((tid.clone(), rfc.clone()))
                .or_insert_with(|| conversation.clone());
        }
        new_ones.push(NewOne {
            index,
            tenant: item.tenant,
            tid,
            message,
            attachments,
            channel: inbound.channel,
            key_conflict,
        });
    }

    // The archive rows, before the write lock. Only new rows are written here, never an
    // existing one: a node holding the lock must never wait for a row another node has
    // locked while that node waits for the lock (a deadlock).
    let renamed = insert_contacts(conn, &new_contacts)?;
    if !renamed.is_empty() {
        for row in &mut new_convs {
            if let Some(id) = renamed.get(&row.contact_id) {
                row.contact_id = id.clone();
            }
        }
        for n in &mut new_ones {
            if let Some(id) = renamed.get(&n.message.contact_id) {
                n.message.contact_id = id.clone();
            }
        }
    }
    insert_rows(conn, &new_convs, 10)?;
    let mut blob_keys: HashSet<(&str, &str)> = HashSet::new();
    let mut blobs_rows: Vec<NewBlob<'_>> = Vec::new();
    for n in &new_ones {
        let inbound = &items[n.index].inbound;
        if blob_keys.insert((&n.tid, &n.message.raw_sha256)) {
            blobs_rows.push(NewBlob {
                tenant_id: &n.tid,
                sha256: &n.message.raw_sha256,
                size: inbound.raw.len() as i64,
                data: &inbound.raw,
            });
        }
        for (a, row) in inbound.attachments.iter().zip(&n.attachments) {
            if blob_keys.insert((&n.tid, &row.sha256)) {
                blobs_rows.push(NewBlob {
                    tenant_id: &n.tid,
                    sha256: &row.sha256,
                    size: a.data.len() as i64,
                    data: &a.data,
                });
            }
        }
    }
    crate::blobs::insert_blobs(conn, &blobs_rows)?;
    let message_rows: Vec<MessageRow> = new_ones.iter().map(|n| n.message.clone()).collect();
    insert_rows(conn, &message_rows, 23)?;
    let attachment_rows: Vec<AttachmentRow> = new_ones
        .iter()
        .flat_map(|n| n.attachments.iter().cloned())
        .collect();
    insert_rows(conn, &attachment_rows, 9)?;

    // Under the write lock: existing conversations, the audit chain and the outbox.
    if !touched.is_empty() {
        ctx.lock_heads(conn)?;
        touch_conversations(conn, &touched, &convs)?;
    }
    let mut audit_rows = Vec::with_capacity(new_ones.len());
    let mut outbox_rows = Vec::with_capacity(new_ones.len());
    let created = ts(now);
    for n in &new_ones {
        let detail = serde_json::json!({
            "sha256": n.message.raw_sha256,
            "channel": n.channel.as_str(),
            "conversation": n.message.conversation_id,
            "key_conflict": n.key_conflict,
        })
        .to_string();
        audit_rows.push(audit::chain(
            conn,
            ctx,
            n.tenant,
            &format!("system:{}", n.channel.as_str()),
            AuditAction::MessageIngested,
            &AuditSubject::new("message", &n.message.id),
            &detail,
        )?);
        outbox_rows.push(OutboxRow {
            seq: ctx.take_outbox_seq(conn)?,
            tenant_id: n.tid.clone(),
            kind: OutboxKind::MessageIngested.as_str().to_owned(),
            message_id: Some(n.message.id.clone()),
            conversation_id: Some(n.message.conversation_id.clone()),
            created_at: created,
        });
    }
    insert_rows(conn, &audit_rows, 11)?;
    insert_rows(conn, &outbox_rows, 6)?;

    for (n, outbox) in new_ones.into_iter().zip(&outbox_rows) {
        let ingested = Ingested {
            message_id: parse("message id", &n.message.id)?,
            conversation_id: parse("conversation id", &n.message.conversation_id)?,
            duplicate: false,
            key_conflict: n.key_conflict,
            seq: Some(outbox.seq),
        };
        results[n.index] = Some(Ok((ingested, Some((n.message, n.attachments)))));
    }
    Ok(results
        .into_iter()
        .map(|r| {
            // Invariant: the loop above gives every item a result or a `NewOne`, and
            // every `NewOne` got its result just now.
            r.unwrap_or_else(|| Err(StoreError::Corrupt("ingest group lost an item".into())))
        })
        .collect())
}

/// Inserts the group's new contacts. Another node may have created one of them since the
/// lookup: that row is kept (`ON CONFLICT DO NOTHING`) and its id returned in place of
/// ours (ours → theirs), so the group does not fail on it.
fn insert_contacts(
    conn: &mut AnyConnection,
    rows: &[ContactRow],
) -> Result<HashMap<String, String>> {
    let mut inserted = 0;
    for chunk in rows.chunks(rows_per_insert(6)) {
        inserted += match conn {
            AnyConnection::Sqlite(c) => {
                let mut n = 0;
                for row in chunk {
                    n += diesel::insert_into(contacts::table)
                        .values(row)
                        .on_conflict_do_nothing()
                        .execute(c)?;
                }
                n
            }
            AnyConnection::Postgresql(c) => diesel::insert_into(contacts::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(c)?,
        };
    }
    let mut renamed = HashMap::new();
    if inserted == rows.len() {
        return Ok(renamed);
    }
    for row in rows {
        let id: String = contacts::table
            .filter(contacts::tenant_id.eq(&row.tenant_id))
            .filter(contacts::channel.eq(&row.channel))
            .filter(contacts::address.eq(&row.address))
            .select(contacts::id)
            .first(conn)?;
        if id != row.id {
            renamed.insert(row.id.clone(), id);
        }
    }
    Ok(renamed)
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut set = HashSet::new();
    values.filter(|v| set.insert(v.clone())).collect()
}

type BoxedConversations<'a> = conversations::BoxedQuery<'a, crate::conn::MultiBackend>;

fn load_conv_states(
    conn: &mut AnyConnection,
    query: BoxedConversations<'_>,
    into: &mut HashMap<String, ConvState>,
) -> Result<()> {
    type Row = (
        String,
        String,
        String,
        String,
        NaiveDateTime,
        Option<String>,
    );
    let rows: Vec<Row> = query
        .select((
            conversations::id,
            conversations::tenant_id,
            conversations::contact_id,
            conversations::status,
            conversations::last_message_at,
            conversations::subject,
        ))
        .load(conn)?;
    for (id, tenant, contact, status, last_message_at, subject) in rows {
        into.insert(
            id,
            ConvState {
                tenant,
                contact,
                open: status != ConversationStatus::Closed.as_str(),
                last_message_at,
                subject,
            },
        );
    }
    Ok(())
}

/// Sets `last_message_at` and reopens the conversations the group joined: one statement on
/// PostgreSQL, the cached single-row update on SQLite (in-process, no round trips).
fn touch_conversations(
    conn: &mut AnyConnection,
    ids: &[String],
    convs: &HashMap<String, ConvState>,
) -> Result<()> {
    let open = ConversationStatus::Open.as_str();
    let rows: Vec<(&String, NaiveDateTime)> = ids
        .iter()
        .filter_map(|id| convs.get(id).map(|c| (id, c.last_message_at)))
        .collect();
    match conn {
        AnyConnection::Sqlite(c) => {
            for (id, at) in rows {
                diesel::update(conversations::table.filter(conversations::id.eq(id)))
                    .set((
                        conversations::last_message_at.eq(at),
                        conversations::status.eq(open),
                    ))
                    .execute(c)?;
            }
        }
        AnyConnection::Postgresql(c) => {
            use diesel::sql_types::{Text, Timestamp};
            for chunk in rows.chunks(IN_CHUNK) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| format!("(${}, ${}::timestamp)", 2 * i + 2, 2 * i + 3))
                    .collect();
                let sql = format!(
                    "UPDATE conversations AS c SET status = $1, last_message_at = v.at \
                     FROM (VALUES {}) AS v(id, at) WHERE c.id = v.id",
                    values.join(", ")
                );
                let mut q = diesel::sql_query(sql).into_boxed().bind::<Text, _>(open);
                for (id, at) in chunk {
                    q = q.bind::<Text, _>(*id).bind::<Timestamp, _>(*at);
                }
                q.execute(c)?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Stores many inbound messages in one transaction (bulk paths and benchmarks), with
    /// the statements of a group commit (`ingest_batch.rs`): the same results as ingesting
    /// them one after another. Each message is still idempotent; results are in input
    /// order; if one is refused, none is stored.
    pub async fn ingest_many(
        &self,
        tenant: TenantId,
        inbound: Vec<Inbound>,
    ) -> Result<Vec<Ingested>> {
        let items: Vec<IngestItem> = inbound
            .into_iter()
            .map(|inbound| IngestItem { tenant, inbound })
            .collect();
        self.write(move |c, ctx| {
            ingest_group(c, ctx, &items)?
                .into_iter()
                .map(|r| r.map(|(ingested, _)| ingested))
                .collect()
        })
        .await
    }
}
