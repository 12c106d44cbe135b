//! A case's documents. The unit is always the whole conversation (all its messages and
//! attachments); each gets the next number of the case, and a conversation already in
//! the case is not added again. Judgements are validated by `loket_core::woo::case`.

use super::{date_text, invalid, parse_date, record};
use crate::conn::AnyConnection;
use crate::models::{parse, ts, utc};
use crate::schema::{conversations, woo_cases, woo_documents};
use crate::{Result, Store, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use loket_core::woo::{Assessment, Judgement, older_than_five_years, receipt_date};
use loket_core::{ConversationId, Principal, TenantId, WooCaseId};
use serde::Serialize;
use std::collections::HashSet;

/// What adding hits did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AddedDocuments {
    /// Conversations that became documents now.
    pub added: usize,
    /// Conversations that were in the case already (or given twice).
    pub already_in_case: usize,
}

/// One document of a case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDocument {
    pub number: i32,
    pub conversation: ConversationId,
    pub subject: Option<String>,
    pub channel: String,
    pub document_date: NaiveDate,
    pub older_than_five_years: bool,
    pub duplicate_of: Option<i32>,
    pub judgement: Option<Judgement>,
    pub grounds: Vec<String>,
    pub motivation: String,
    pub link: Option<String>,
    pub art_5_3_reasons: Option<String>,
    pub judged_by: Option<String>,
}

/// A page of documents in number order.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentPage {
    pub documents: Vec<CaseDocument>,
    /// Pass as `after` for the next page.
    pub next_after: Option<i32>,
}

/// Ids per `IN (…)` lookup, well under either backend's bind-parameter limit.
const LOOKUP_CHUNK: usize = 5_000;

struct CaseHead {
    number: String,
    received_on: NaiveDate,
}

fn open_case(c: &mut AnyConnection, tenant: TenantId, case: WooCaseId) -> Result<CaseHead> {
    let row: Option<(String, String, String)> = woo_cases::table
        .filter(woo_cases::tenant_id.eq(tenant.to_string()))
        .filter(woo_cases::id.eq(case.to_string()))
        .select((woo_cases::number, woo_cases::status, woo_cases::received_on))
        .first(c)
        .optional()?;
    let (number, status, received_on) =
        row.ok_or_else(|| StoreError::not_found("woo case", case))?;
    let open = loket_core::woo::CaseStatus::parse(&status).is_some_and(|s| s.is_open());
    if !open {
        return Err(invalid("status", "the case is closed"));
    }
    Ok(CaseHead {
        number,
        received_on: parse_date(&received_on)?,
    })
}

fn add_in_tx(
    c: &mut AnyConnection,
    ctx: &mut crate::batch::BatchCtx,
    p: &Principal,
    case: WooCaseId,
    wanted: Vec<ConversationId>,
) -> Result<AddedDocuments> {
    let head = open_case(c, p.tenant, case)?;
    let tid = p.tenant.to_string();
    let cid = case.to_string();
    let mut seen = HashSet::with_capacity(wanted.len());
    let unique: Vec<String> = wanted
        .iter()
        .map(ToString::to_string)
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let given_twice = wanted.len() - unique.len();
    let existing: HashSet<String> = woo_documents::table
        .filter(woo_documents::tenant_id.eq(&tid))
        .filter(woo_documents::case_id.eq(&cid))
        .select(woo_documents::conversation_id)
        .load::<String>(c)?
        .into_iter()
        .collect();
    let fresh: Vec<String> = unique
        .into_iter()
        .filter(|id| !existing.contains(id))
        .collect();
    // Every id must be a conversation of this tenant: another tenant's is refused whole.
    let mut last_message: std::collections::HashMap<String, NaiveDateTime> =
        std::collections::HashMap::with_capacity(fresh.len());
    for chunk in fresh.chunks(LOOKUP_CHUNK) {
        let rows: Vec<(String, NaiveDateTime)> = conversations::table
            .filter(conversations::tenant_id.eq(&tid))
            .filter(conversations::id.eq_any(chunk))
            .select((conversations::id, conversations::last_message_at))
            .load(c)?;
        last_message.extend(rows);
    }
    if let Some(missing) = fresh.iter().find(|id| !last_message.contains_key(*id)) {
        return Err(invalid(
            "conversation_id",
            format!("no conversation {missing} in this tenant"),
        ));
    }
    let last: Option<i32> = woo_documents::table
        .filter(woo_documents::tenant_id.eq(&tid))
        .filter(woo_documents::case_id.eq(&cid))
        .select(diesel::dsl::max(woo_documents::number))
        .first(c)?;
    let first_number = last.unwrap_or(0) + 1;
    let actor = p.actor.reference();
    let now = ts(loket_core::now());
    let rows: Vec<_> = fresh
        .iter()
        .zip(first_number..)
        .map(|(conv, number)| {
            // Invariant: every fresh id was found above, or we returned an error.
            let at = last_message.get(conv).copied().unwrap_or(now);
            let date = receipt_date(utc(at));
            (
                woo_documents::tenant_id.eq(tid.clone()),
                woo_documents::case_id.eq(cid.clone()),
                woo_documents::number.eq(number),
                woo_documents::conversation_id.eq(conv.clone()),
                woo_documents::document_date.eq(date_text(date)),
                woo_documents::older_than_five_years
                    .eq(older_than_five_years(date, head.received_on)),
                woo_documents::grounds_json.eq("[]"),
                woo_documents::motivation.eq(""),
                woo_documents::added_by.eq(actor.clone()),
                woo_documents::added_at.eq(now),
            )
        })
        .collect();
    for chunk in rows.chunks(1_000) {
        match c {
            AnyConnection::Sqlite(s) => {
                for row in chunk {
                    diesel::insert_into(woo_documents::table)
                        .values(row.clone())
                        .execute(s)?;
                }
            }
            AnyConnection::Postgresql(pg) => {
                diesel::insert_into(woo_documents::table)
                    .values(chunk.to_vec())
                    .execute(pg)?;
            }
        }
    }
    super::holds::hold_many_for_case(c, ctx, p, case, &head.number, &fresh)?;
    let added = AddedDocuments {
        added: fresh.len(),
        already_in_case: wanted.len() - fresh.len() - given_twice + given_twice,
    };
    if added.added > 0 {
        let last_number = first_number + i32::try_from(fresh.len()).unwrap_or(i32::MAX) - 1;
        record(
            c,
            ctx,
            p,
            case,
            "documents_added",
            serde_json::json!({
                "added": added.added, "already_in_case": added.already_in_case,
                "numbers": [first_number, last_number],
            }),
        )?;
    }
    Ok(added)
}

type DocRow = (
    i32,
    String,
    String,
    bool,
    Option<i32>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn document_of(row: DocRow) -> Result<CaseDocument> {
    let (
        number,
        conv,
        date,
        older,
        dup,
        judgement,
        grounds,
        motivation,
        link,
        reasons,
        by,
        subject,
        channel,
    ) = row;
    Ok(CaseDocument {
        number,
        conversation: parse("conversation id", &conv)?,
        subject,
        channel,
        document_date: parse_date(&date)?,
        older_than_five_years: older,
        duplicate_of: dup,
        judgement: judgement.as_deref().and_then(Judgement::parse),
        grounds: serde_json::from_str(&grounds)
            .map_err(|e| StoreError::Corrupt(format!("bad grounds: {e}")))?,
        motivation,
        link,
        art_5_3_reasons: reasons,
        judged_by: by,
    })
}

impl Store {
    /// Adds conversations (one search hit's, or those of all N hits) to a case as
    /// documents, each once. Refused whole, nothing added, if one is not the tenant's.
    pub async fn add_woo_documents(
        &self,
        principal: &Principal,
        case: WooCaseId,
        conversations: Vec<ConversationId>,
    ) -> Result<AddedDocuments> {
        let p = principal.clone();
        if conversations.len() > 500 {
            // Thousands of rows: a transaction of its own rather than a savepoint.
            self.enqueue_write_solo(move |c, ctx| add_in_tx(c, ctx, &p, case, conversations))?
                .await
        } else {
            self.write(move |c, ctx| add_in_tx(c, ctx, &p, case, conversations))
                .await
        }
    }

    /// A page of the case's documents in number order, after document `after`.
    pub async fn woo_documents(
        &self,
        tenant: TenantId,
        case: WooCaseId,
        after: Option<i32>,
        limit: i64,
    ) -> Result<DocumentPage> {
        let limit = limit.clamp(1, 1_000);
        self.read(move |c| {
            super::case_exists(c, tenant, case)?;
            let rows: Vec<DocRow> = woo_documents::table
                .inner_join(
                    conversations::table.on(conversations::id.eq(woo_documents::conversation_id)),
                )
                .filter(woo_documents::tenant_id.eq(tenant.to_string()))
                .filter(woo_documents::case_id.eq(case.to_string()))
                .filter(woo_documents::number.gt(after.unwrap_or(0)))
                .order(woo_documents::number.asc())
                .limit(limit)
                .select((
                    woo_documents::number,
                    woo_documents::conversation_id,
                    woo_documents::document_date,
                    woo_documents::older_than_five_years,
                    woo_documents::duplicate_of,
                    woo_documents::judgement,
                    woo_documents::grounds_json,
                    woo_documents::motivation,
                    woo_documents::link,
                    woo_documents::art_5_3_reasons,
                    woo_documents::judged_by,
                    conversations::subject,
                    conversations::channel,
                ))
                .load(c)?;
            let documents = rows
                .into_iter()
                .map(document_of)
                .collect::<Result<Vec<_>>>()?;
            let next_after = documents
                .last()
                .filter(|_| documents.len() as i64 == limit)
                .map(|d| d.number);
            Ok(DocumentPage {
                documents,
                next_after,
            })
        })
        .await
    }

    /// Judges documents (one, or a selection at once). Each is checked against its own
    /// age (art. 5.3); if one fails, none is changed.
    pub async fn judge_woo_documents(
        &self,
        principal: &Principal,
        case: WooCaseId,
        numbers: Vec<i32>,
        assessment: Assessment,
    ) -> Result<usize> {
        if numbers.is_empty() {
            return Err(invalid("numbers", "choose at least one document"));
        }
        let p = principal.clone();
        self.write(move |c, ctx| {
            open_case(c, p.tenant, case)?;
            let tid = p.tenant.to_string();
            let cid = case.to_string();
            let found: Vec<(i32, bool)> = woo_documents::table
                .filter(woo_documents::tenant_id.eq(&tid))
                .filter(woo_documents::case_id.eq(&cid))
                .filter(woo_documents::number.eq_any(&numbers))
                .select((woo_documents::number, woo_documents::older_than_five_years))
                .load(c)?;
            if let Some(missing) = numbers.iter().find(|n| !found.iter().any(|(f, _)| f == *n)) {
                return Err(invalid(
                    "numbers",
                    format!("no document {missing} in this case"),
                ));
            }
            let now = ts(loket_core::now());
            for older in [false, true] {
                let these: Vec<i32> = found
                    .iter()
                    .filter(|(_, o)| *o == older)
                    .map(|(n, _)| *n)
                    .collect();
                if these.is_empty() {
                    continue;
                }
                let a = assessment
                    .clone()
                    .validated(older)
                    .map_err(|e| invalid(e.field(), e))?;
                let grounds = serde_json::to_string(&a.grounds)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                diesel::update(
                    woo_documents::table
                        .filter(woo_documents::tenant_id.eq(&tid))
                        .filter(woo_documents::case_id.eq(&cid))
                        .filter(woo_documents::number.eq_any(&these)),
                )
                .set((
                    woo_documents::judgement.eq(Some(a.judgement.as_str())),
                    woo_documents::grounds_json.eq(&grounds),
                    woo_documents::motivation.eq(&a.motivation),
                    woo_documents::link.eq(&a.link),
                    woo_documents::art_5_3_reasons.eq(&a.art_5_3_reasons),
                    woo_documents::judged_by.eq(Some(p.actor.reference())),
                    woo_documents::judged_at.eq(Some(now)),
                ))
                .execute(c)?;
                record(
                    c,
                    ctx,
                    &p,
                    case,
                    "judged",
                    serde_json::json!({
                        "numbers": these, "judgement": a.judgement.as_str(),
                        "grounds": a.grounds, "motivation": a.motivation, "link": a.link,
                    }),
                )?;
            }
            Ok(found.len())
        })
        .await
    }

    /// Marks document `number` as a duplicate of document `of` (same originals), or
    /// clears the mark with `None`.
    pub async fn mark_woo_duplicate(
        &self,
        principal: &Principal,
        case: WooCaseId,
        number: i32,
        of: Option<i32>,
    ) -> Result<()> {
        if of == Some(number) {
            return Err(invalid(
                "duplicate_of",
                "a document cannot duplicate itself",
            ));
        }
        let p = principal.clone();
        self.write(move |c, ctx| {
            open_case(c, p.tenant, case)?;
            let tid = p.tenant.to_string();
            let cid = case.to_string();
            let doc = |n: i32| {
                woo_documents::table
                    .filter(woo_documents::tenant_id.eq(tid.clone()))
                    .filter(woo_documents::case_id.eq(cid.clone()))
                    .filter(woo_documents::number.eq(n))
            };
            if let Some(o) = of {
                let n: i64 = doc(o).count().get_result(c)?;
                if n == 0 {
                    return Err(invalid(
                        "duplicate_of",
                        format!("no document {o} in this case"),
                    ));
                }
            }
            let rows = diesel::update(doc(number))
                .set(woo_documents::duplicate_of.eq(of))
                .execute(c)?;
            if rows == 0 {
                return Err(invalid(
                    "number",
                    format!("no document {number} in this case"),
                ));
            }
            record(
                c,
                ctx,
                &p,
                case,
                "duplicate",
                serde_json::json!({"number": number, "duplicate_of": of}),
            )
        })
        .await
    }
}
