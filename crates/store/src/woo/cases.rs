//! The case itself: intake, status, outcome, extension and suspensions, and reading it
//! back with its deadline computed.

use super::{case_exists, date_text, invalid, parse_date, record};
use crate::models::{parse, ts, utc};
use crate::schema::{messages, woo_case_events, woo_cases, woo_documents, woo_suspensions};
use crate::{Result, Store, StoreError};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use loket_core::woo::deadline::{self, Deadline, Extension, Suspension, SuspensionKind};
use loket_core::woo::{CaseStatus, Outcome, case_number, receipt_date};
use loket_core::{ContactId, ConversationId, MessageId, Principal, TenantId, Timestamp, WooCaseId};
use serde::Serialize;

/// A request as registered: from a message (requester, channel and receipt follow from
/// it) or typed in by hand for a letter or a phone call.
#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub subject: String,
    pub message: Option<MessageId>,
    pub requester_name: Option<String>,
    pub requester_address: Option<String>,
    /// When it was received; default: the message's arrival, or now.
    pub received_at: Option<Timestamp>,
}

/// A case with its suspensions and its deadline.
#[derive(Debug, Clone, Serialize)]
pub struct WooCase {
    pub id: WooCaseId,
    pub number: String,
    pub subject: String,
    pub requester_contact: Option<ContactId>,
    pub requester_name: Option<String>,
    pub requester_address: Option<String>,
    pub channel: Option<String>,
    pub received_at: Timestamp,
    pub received_on: NaiveDate,
    pub message: Option<MessageId>,
    pub conversation: Option<ConversationId>,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub extension: Option<Extension>,
    pub suspensions: Vec<(String, Suspension)>,
    pub deadline: Deadline,
    pub document_count: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A line of the case list.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: WooCaseId,
    pub number: String,
    pub subject: String,
    pub status: CaseStatus,
    pub received_on: NaiveDate,
    pub due: Option<NaiveDate>,
    pub created_at: Timestamp,
}

/// Which cases the list shows.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub open_only: bool,
}

/// One entry of a case's history.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub at: Timestamp,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = woo_cases)]
struct CaseRow {
    id: String,
    number: String,
    subject: String,
    requester_contact_id: Option<String>,
    requester_name: Option<String>,
    requester_address: Option<String>,
    channel: Option<String>,
    received_at: NaiveDateTime,
    received_on: String,
    message_id: Option<String>,
    conversation_id: Option<String>,
    status: String,
    outcome: Option<String>,
    extension_days: Option<i32>,
    extension_decided_on: Option<String>,
    extension_reason: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn status_of(s: &str) -> Result<CaseStatus> {
    CaseStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("bad case status `{s}`")))
}

impl CaseRow {
    fn extension(&self) -> Result<Option<Extension>> {
        match (self.extension_days, &self.extension_decided_on) {
            (Some(days), Some(on)) => Ok(Some(Extension {
                days: days.unsigned_abs(),
                decided_on: parse_date(on)?,
                reason: self.extension_reason.clone().unwrap_or_default(),
            })),
            _ => Ok(None),
        }
    }
}

fn load_suspensions(
    c: &mut crate::AnyConnection,
    tenant: TenantId,
    case: WooCaseId,
) -> Result<Vec<(String, Suspension)>> {
    let rows: Vec<(String, String, String, Option<String>)> = woo_suspensions::table
        .filter(woo_suspensions::tenant_id.eq(tenant.to_string()))
        .filter(woo_suspensions::case_id.eq(case.to_string()))
        .order(woo_suspensions::created_at.asc())
        .select((
            woo_suspensions::id,
            woo_suspensions::kind,
            woo_suspensions::asked_on,
            woo_suspensions::ended_on,
        ))
        .load(c)?;
    rows.into_iter()
        .map(|(id, kind, asked, ended)| {
            let kind = SuspensionKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("bad suspension kind `{kind}`")))?;
            Ok((
                id,
                Suspension {
                    kind,
                    asked_on: parse_date(&asked)?,
                    ended_on: ended.as_deref().map(parse_date).transpose()?,
                },
            ))
        })
        .collect()
}

pub(crate) fn load_case(
    c: &mut crate::AnyConnection,
    tenant: TenantId,
    case: WooCaseId,
) -> Result<WooCase> {
    let row: CaseRow = woo_cases::table
        .filter(woo_cases::tenant_id.eq(tenant.to_string()))
        .filter(woo_cases::id.eq(case.to_string()))
        .select(CaseRow::as_select())
        .first(c)
        .optional()?
        .ok_or_else(|| StoreError::not_found("woo case", case))?;
    let suspensions = load_suspensions(c, tenant, case)?;
    let document_count: i64 = woo_documents::table
        .filter(woo_documents::tenant_id.eq(tenant.to_string()))
        .filter(woo_documents::case_id.eq(case.to_string()))
        .count()
        .get_result(c)?;
    let received_on = parse_date(&row.received_on)?;
    let extension = row.extension()?;
    let plain: Vec<Suspension> = suspensions.iter().map(|(_, s)| s.clone()).collect();
    let deadline = deadline::compute(received_on, extension.as_ref(), &plain);
    Ok(WooCase {
        id: parse("case id", &row.id)?,
        number: row.number,
        subject: row.subject,
        requester_contact: row
            .requester_contact_id
            .as_deref()
            .map(|s| parse("contact id", s))
            .transpose()?,
        requester_name: row.requester_name,
        requester_address: row.requester_address,
        channel: row.channel,
        received_at: utc(row.received_at),
        received_on,
        message: row
            .message_id
            .as_deref()
            .map(|s| parse("message id", s))
            .transpose()?,
        conversation: row
            .conversation_id
            .as_deref()
            .map(|s| parse("conversation id", s))
            .transpose()?,
        status: status_of(&row.status)?,
        outcome: row.outcome.as_deref().and_then(Outcome::parse),
        extension,
        suspensions,
        deadline,
        document_count,
        created_by: row.created_by,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

fn set_status(
    c: &mut crate::AnyConnection,
    tenant: TenantId,
    case: WooCaseId,
    status: CaseStatus,
) -> Result<()> {
    diesel::update(
        woo_cases::table
            .filter(woo_cases::tenant_id.eq(tenant.to_string()))
            .filter(woo_cases::id.eq(case.to_string())),
    )
    .set(woo_cases::status.eq(status.as_str()))
    .execute(c)?;
    Ok(())
}

impl Store {
    /// Registers a Woo request and returns the new case (numbered `WOO-<year>-<n>` per
    /// tenant, the year of receipt). The conversation it arrived in is put on hold.
    pub async fn create_woo_case(&self, principal: &Principal, new: NewCase) -> Result<WooCase> {
        let subject = new.subject.trim().to_owned();
        if subject.is_empty() || subject.chars().count() > 500 {
            return Err(invalid("subject", "a subject has 1–500 characters"));
        }
        if new.message.is_none()
            && new
                .requester_name
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .is_empty()
        {
            return Err(invalid(
                "requester_name",
                "a case typed in by hand needs the requester's name",
            ));
        }
        let p = principal.clone();
        let id = WooCaseId::new();
        self.write(move |c, ctx| {
            let tid = p.tenant.to_string();
            let mut contact = None;
            let mut conversation = None;
            let mut channel = None;
            let mut received_at = new.received_at.unwrap_or_else(loket_core::now);
            if let Some(m) = new.message {
                let row: Option<(String, String, String, NaiveDateTime)> = messages::table
                    .filter(messages::tenant_id.eq(&tid))
                    .filter(messages::id.eq(m.to_string()))
                    .select((
                        messages::conversation_id,
                        messages::contact_id,
                        messages::channel,
                        messages::received_at,
                    ))
                    .first(c)
                    .optional()?;
                let (conv, cont, ch, at) =
                    row.ok_or_else(|| invalid("message_id", "no such message in this tenant"))?;
                conversation = Some(conv);
                contact = Some(cont);
                channel = Some(ch);
                if new.received_at.is_none() {
                    received_at = utc(at);
                }
            }
            let received_on = receipt_date(received_at);
            let year = received_on.year();
            let last: Option<i32> = woo_cases::table
                .filter(woo_cases::tenant_id.eq(&tid))
                .filter(woo_cases::year.eq(year))
                .select(diesel::dsl::max(woo_cases::ordinal))
                .first(c)?;
            let ordinal = last.unwrap_or(0) + 1;
            let number = case_number(year, ordinal.unsigned_abs());
            let now = ts(loket_core::now());
            diesel::insert_into(woo_cases::table)
                .values((
                    woo_cases::id.eq(id.to_string()),
                    woo_cases::tenant_id.eq(&tid),
                    woo_cases::number.eq(&number),
                    woo_cases::year.eq(year),
                    woo_cases::ordinal.eq(ordinal),
                    woo_cases::subject.eq(&subject),
                    woo_cases::requester_contact_id.eq(&contact),
                    woo_cases::requester_name.eq(&new.requester_name),
                    woo_cases::requester_address.eq(&new.requester_address),
                    woo_cases::channel.eq(&channel),
                    woo_cases::received_at.eq(ts(received_at)),
                    woo_cases::received_on.eq(date_text(received_on)),
                    woo_cases::message_id.eq(new.message.map(|m| m.to_string())),
                    woo_cases::conversation_id.eq(&conversation),
                    woo_cases::status.eq(CaseStatus::Ontvangen.as_str()),
                    woo_cases::outcome.eq(None::<String>),
                    woo_cases::extension_days.eq(None::<i32>),
                    woo_cases::extension_decided_on.eq(None::<String>),
                    woo_cases::extension_reason.eq(None::<String>),
                    woo_cases::created_by.eq(p.actor.reference()),
                    woo_cases::created_at.eq(now),
                    woo_cases::updated_at.eq(now),
                ))
                .execute(c)?;
            record(
                c,
                ctx,
                &p,
                id,
                "registered",
                serde_json::json!({
                    "number": number, "subject": subject, "received_on": date_text(received_on),
                    "message": new.message.map(|m| m.to_string()),
                }),
            )?;
            if let Some(conv) = &conversation {
                super::holds::hold_for_case(c, ctx, &p, id, &number, conv)?;
            }
            load_case(c, p.tenant, id)
        })
        .await
    }

    /// One of the tenant's cases.
    pub async fn woo_case(&self, tenant: TenantId, case: WooCaseId) -> Result<WooCase> {
        self.read(move |c| load_case(c, tenant, case)).await
    }

    /// A case by its number (`WOO-2026-0001`).
    pub async fn woo_case_by_number(&self, tenant: TenantId, number: &str) -> Result<WooCase> {
        let number = number.trim().to_uppercase();
        self.read(move |c| {
            let id: Option<String> = woo_cases::table
                .filter(woo_cases::tenant_id.eq(tenant.to_string()))
                .filter(woo_cases::number.eq(&number))
                .select(woo_cases::id)
                .first(c)
                .optional()?;
            let id = id.ok_or_else(|| StoreError::not_found("woo case", &number))?;
            load_case(c, tenant, parse("case id", &id)?)
        })
        .await
    }

    /// The tenant's cases, newest first, with their deadlines.
    pub async fn woo_cases(
        &self,
        tenant: TenantId,
        filter: CaseFilter,
    ) -> Result<Vec<CaseSummary>> {
        self.read(move |c| {
            let ids: Vec<(String, String)> = woo_cases::table
                .filter(woo_cases::tenant_id.eq(tenant.to_string()))
                .order((woo_cases::year.desc(), woo_cases::ordinal.desc()))
                .select((woo_cases::id, woo_cases::status))
                .load(c)?;
            let mut out = Vec::new();
            for (id, status) in ids {
                if filter.open_only && !status_of(&status)?.is_open() {
                    continue;
                }
                let case = load_case(c, tenant, parse("case id", &id)?)?;
                out.push(CaseSummary {
                    id: case.id,
                    number: case.number,
                    subject: case.subject,
                    status: case.status,
                    received_on: case.received_on,
                    due: case.deadline.due,
                    created_at: case.created_at,
                });
            }
            Ok(out)
        })
        .await
    }

    /// The numbers of the cases a conversation belongs to (as a document or as the
    /// conversation the request arrived in) — what a clerk may see.
    pub async fn woo_cases_of_conversation(
        &self,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> Result<Vec<String>> {
        self.read(move |c| {
            let tid = tenant.to_string();
            let cid = conversation.to_string();
            let as_document: Vec<String> = woo_documents::table
                .inner_join(woo_cases::table.on(woo_cases::id.eq(woo_documents::case_id)))
                .filter(woo_documents::tenant_id.eq(&tid))
                .filter(woo_documents::conversation_id.eq(&cid))
                .select(woo_cases::number)
                .load(c)?;
            let as_request: Vec<String> = woo_cases::table
                .filter(woo_cases::tenant_id.eq(&tid))
                .filter(woo_cases::conversation_id.eq(&cid))
                .select(woo_cases::number)
                .load(c)?;
            let mut all: Vec<String> = as_document.into_iter().chain(as_request).collect();
            all.sort();
            all.dedup();
            Ok(all)
        })
        .await
    }

    /// The case's history, oldest first.
    pub async fn woo_case_history(
        &self,
        tenant: TenantId,
        case: WooCaseId,
    ) -> Result<Vec<CaseEvent>> {
        self.read(move |c| {
            case_exists(c, tenant, case)?;
            let rows: Vec<(NaiveDateTime, String, String, String)> = woo_case_events::table
                .filter(woo_case_events::tenant_id.eq(tenant.to_string()))
                .filter(woo_case_events::case_id.eq(case.to_string()))
                .order((woo_case_events::at.asc(), woo_case_events::id.asc()))
                .select((
                    woo_case_events::at,
                    woo_case_events::actor,
                    woo_case_events::kind,
                    woo_case_events::detail_json,
                ))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(|(at, actor, kind, detail)| CaseEvent {
                    at: utc(at),
                    actor,
                    kind,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
                .collect())
        })
        .await
    }

    /// Moves a case along its status machine. `besluit_genomen` needs the outcome;
    /// closing a case (`afgerond`, `ingetrokken`) releases the holds it placed.
    pub async fn set_woo_case_status(
        &self,
        principal: &Principal,
        case: WooCaseId,
        to: CaseStatus,
        outcome: Option<Outcome>,
    ) -> Result<WooCase> {
        let p = principal.clone();
        self.write(move |c, ctx| {
            let current = load_case(c, p.tenant, case)?;
            if to == CaseStatus::Opgeschort || !current.status.may_become(to) {
                return Err(invalid(
                    "status",
                    format!("a case cannot go from {} to {}", current.status.as_str(), to.as_str()),
                ));
            }
            if to == CaseStatus::BesluitGenomen {
                let outcome =
                    outcome.ok_or_else(|| invalid("outcome", "a decision needs its outcome"))?;
                diesel::update(
                    woo_cases::table
                        .filter(woo_cases::tenant_id.eq(p.tenant.to_string()))
                        .filter(woo_cases::id.eq(case.to_string())),
                )
                .set(woo_cases::outcome.eq(outcome.as_str()))
                .execute(c)?;
            }
            set_status(c, p.tenant, case, to)?;
            record(
                c,
                ctx,
                &p,
                case,
                "status",
                serde_json::json!({
                    "from": current.status.as_str(), "to": to.as_str(),
                    "outcome": outcome.filter(|_| to == CaseStatus::BesluitGenomen).map(Outcome::as_str),
                }),
            )?;
            if !to.is_open() {
                super::holds::release_case_holds(c, ctx, &p, case)?;
            }
            load_case(c, p.tenant, case)
        })
        .await
    }

    /// Records the one extension (Woo art. 4.4 lid 2).
    pub async fn extend_woo_case(
        &self,
        principal: &Principal,
        case: WooCaseId,
        extension: Extension,
    ) -> Result<WooCase> {
        let p = principal.clone();
        self.write(move |c, ctx| {
            let current = load_case(c, p.tenant, case)?;
            if !current.status.is_open() {
                return Err(invalid("status", "the case is closed"));
            }
            deadline::check_extension(current.received_on, current.extension.as_ref(), &extension)
                .map_err(|e| invalid(e.field(), e))?;
            diesel::update(
                woo_cases::table
                    .filter(woo_cases::tenant_id.eq(p.tenant.to_string()))
                    .filter(woo_cases::id.eq(case.to_string())),
            )
            .set((
                woo_cases::extension_days.eq(Some(extension.days as i32)),
                woo_cases::extension_decided_on.eq(Some(date_text(extension.decided_on))),
                woo_cases::extension_reason.eq(Some(extension.reason.trim().to_owned())),
            ))
            .execute(c)?;
            record(
                c,
                ctx,
                &p,
                case,
                "extended",
                serde_json::json!({
                    "days": extension.days, "decided_on": date_text(extension.decided_on),
                    "reason": extension.reason.trim(),
                }),
            )?;
            load_case(c, p.tenant, case)
        })
        .await
    }

    /// Records a suspension (precisering or zienswijze); one without an end day puts
    /// the case in `opgeschort` until it is ended.
    pub async fn suspend_woo_case(
        &self,
        principal: &Principal,
        case: WooCaseId,
        suspension: Suspension,
    ) -> Result<WooCase> {
        let p = principal.clone();
        self.write(move |c, ctx| {
            let current = load_case(c, p.tenant, case)?;
            if !current.status.is_open() || current.status == CaseStatus::BesluitGenomen {
                return Err(invalid(
                    "status",
                    "only a case still being handled can be suspended",
                ));
            }
            let others: Vec<Suspension> =
                current.suspensions.iter().map(|(_, s)| s.clone()).collect();
            deadline::check_suspension(current.received_on, &others, &suspension)
                .map_err(|e| invalid(e.field(), e))?;
            let sid = uuid::Uuid::now_v7().to_string();
            diesel::insert_into(woo_suspensions::table)
                .values((
                    woo_suspensions::id.eq(&sid),
                    woo_suspensions::tenant_id.eq(p.tenant.to_string()),
                    woo_suspensions::case_id.eq(case.to_string()),
                    woo_suspensions::kind.eq(suspension.kind.as_str()),
                    woo_suspensions::asked_on.eq(date_text(suspension.asked_on)),
                    woo_suspensions::ended_on.eq(suspension.ended_on.map(date_text)),
                    woo_suspensions::created_by.eq(p.actor.reference()),
                    woo_suspensions::created_at.eq(ts(loket_core::now())),
                ))
                .execute(c)?;
            if suspension.ended_on.is_none() {
                set_status(c, p.tenant, case, CaseStatus::Opgeschort)?;
            }
            record(
                c,
                ctx,
                &p,
                case,
                "suspended",
                serde_json::json!({
                    "suspension": sid, "kind": suspension.kind.as_str(),
                    "asked_on": date_text(suspension.asked_on),
                    "ended_on": suspension.ended_on.map(date_text),
                }),
            )?;
            load_case(c, p.tenant, case)
        })
        .await
    }

    /// Ends a running suspension; the case goes back to `in_behandeling`.
    pub async fn end_woo_suspension(
        &self,
        principal: &Principal,
        case: WooCaseId,
        suspension_id: &str,
        ended_on: NaiveDate,
    ) -> Result<WooCase> {
        let p = principal.clone();
        let sid = suspension_id.to_owned();
        self.write(move |c, ctx| {
            let current = load_case(c, p.tenant, case)?;
            let (_, running) = current
                .suspensions
                .iter()
                .find(|(id, s)| *id == sid && s.ended_on.is_none())
                .ok_or_else(|| invalid("suspension", "no running suspension with this id"))?;
            let ended = Suspension {
                ended_on: Some(ended_on),
                ..running.clone()
            };
            deadline::check_suspension(current.received_on, &[], &ended)
                .map_err(|e| invalid(e.field(), e))?;
            diesel::update(
                woo_suspensions::table
                    .filter(woo_suspensions::tenant_id.eq(p.tenant.to_string()))
                    .filter(woo_suspensions::id.eq(&sid)),
            )
            .set(woo_suspensions::ended_on.eq(Some(date_text(ended_on))))
            .execute(c)?;
            if current.status == CaseStatus::Opgeschort {
                set_status(c, p.tenant, case, CaseStatus::InBehandeling)?;
            }
            record(
                c,
                ctx,
                &p,
                case,
                "suspension_ended",
                serde_json::json!({"suspension": sid, "ended_on": date_text(ended_on)}),
            )?;
            load_case(c, p.tenant, case)
        })
        .await
    }
}
