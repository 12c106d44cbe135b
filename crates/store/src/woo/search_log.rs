//! The zoekslag of a case: every search run from the case with its exact count, and the
//! officer's entries for systems outside loket. Courts check it, so it is append-only.

use super::{case_exists, date_text, invalid, parse_date, record};
use crate::models::{ts, utc};
use crate::schema::woo_search_log;
use crate::{Result, Store};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use loket_core::{Principal, TenantId, Timestamp, WooCaseId};
use serde::Serialize;

/// An entry to log.
#[derive(Debug, Clone)]
pub enum NewSearchEntry {
    /// A search loket ran for the case: the query, its filters and exact counts.
    Loket {
        query: String,
        filters: serde_json::Value,
        hits: i64,
        conversations: i64,
    },
    /// A search in a system outside loket, as the officer reports it.
    Manual {
        system: String,
        terms: String,
        searched_on: NaiveDate,
        result: String,
    },
}

/// One logged search.
#[derive(Debug, Clone, Serialize)]
pub struct SearchLogEntry {
    pub source: String,
    pub system: String,
    pub query: String,
    pub filters: serde_json::Value,
    pub hits: Option<i64>,
    pub conversations: Option<i64>,
    pub result: Option<String>,
    pub searched_on: NaiveDate,
    pub actor: String,
    pub at: Timestamp,
}

impl Store {
    /// Appends a search to the case's log (and its history and the audit trail).
    pub async fn log_woo_search(
        &self,
        principal: &Principal,
        case: WooCaseId,
        entry: NewSearchEntry,
    ) -> Result<()> {
        let now = loket_core::now();
        let (source, system, query, filters, hits, convs, result, on) = match entry {
            NewSearchEntry::Loket {
                query,
                filters,
                hits,
                conversations,
            } => (
                "loket",
                "loket".to_owned(),
                query,
                filters,
                Some(hits),
                Some(conversations),
                None,
                loket_core::woo::receipt_date(now),
            ),
            NewSearchEntry::Manual {
                system,
                terms,
                searched_on,
                result,
            } => {
                if system.trim().is_empty() {
                    return Err(invalid("system", "name the system that was searched"));
                }
                if terms.trim().is_empty() {
                    return Err(invalid("terms", "give the search terms used"));
                }
                (
                    "manual",
                    system.trim().to_owned(),
                    terms.trim().to_owned(),
                    serde_json::json!({}),
                    None,
                    None,
                    Some(result.trim().to_owned()),
                    searched_on,
                )
            }
        };
        let p = principal.clone();
        self.write(move |c, ctx| {
            case_exists(c, p.tenant, case)?;
            diesel::insert_into(woo_search_log::table)
                .values((
                    woo_search_log::id.eq(uuid::Uuid::now_v7().to_string()),
                    woo_search_log::tenant_id.eq(p.tenant.to_string()),
                    woo_search_log::case_id.eq(case.to_string()),
                    woo_search_log::source.eq(source),
                    woo_search_log::system.eq(&system),
                    woo_search_log::query.eq(&query),
                    woo_search_log::filters_json.eq(filters.to_string()),
                    woo_search_log::hit_count.eq(hits),
                    woo_search_log::conversation_count.eq(convs),
                    woo_search_log::result.eq(&result),
                    woo_search_log::searched_on.eq(date_text(on)),
                    woo_search_log::actor.eq(p.actor.reference()),
                    woo_search_log::at.eq(ts(now)),
                ))
                .execute(c)?;
            record(
                c,
                ctx,
                &p,
                case,
                "searched",
                serde_json::json!({
                    "source": source, "system": system, "query": query, "hits": hits,
                    "conversations": convs,
                }),
            )
        })
        .await
    }

    /// The case's search log, oldest first.
    pub async fn woo_search_log(
        &self,
        tenant: TenantId,
        case: WooCaseId,
    ) -> Result<Vec<SearchLogEntry>> {
        type Row = (
            String,
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<String>,
            String,
            String,
            NaiveDateTime,
        );
        self.read(move |c| {
            case_exists(c, tenant, case)?;
            let rows: Vec<Row> = woo_search_log::table
                .filter(woo_search_log::tenant_id.eq(tenant.to_string()))
                .filter(woo_search_log::case_id.eq(case.to_string()))
                .order((woo_search_log::at.asc(), woo_search_log::id.asc()))
                .select((
                    woo_search_log::source,
                    woo_search_log::system,
                    woo_search_log::query,
                    woo_search_log::filters_json,
                    woo_search_log::hit_count,
                    woo_search_log::conversation_count,
                    woo_search_log::result,
                    woo_search_log::searched_on,
                    woo_search_log::actor,
                    woo_search_log::at,
                ))
                .load(c)?;
            rows.into_iter()
                .map(
                    |(source, system, query, filters, hits, convs, result, on, actor, at)| {
                        Ok(SearchLogEntry {
                            source,
                            system,
                            query,
                            filters: serde_json::from_str(&filters)
                                .unwrap_or(serde_json::Value::Null),
                            hits,
                            conversations: convs,
                            result,
                            searched_on: parse_date(&on)?,
                            actor,
                            at: utc(at),
                        })
                    },
                )
                .collect()
        })
        .await
    }
}
