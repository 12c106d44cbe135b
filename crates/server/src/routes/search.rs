//! `/api/v1/search`: FOI search over the tantivy index. Every search by a
//! person or token is recorded in the audit chain (the Woo search log, "zoekslag").

use crate::AppState;
use crate::auth::Auth;
use crate::problem::{Problem, ProblemCode};
use actix_web::{HttpResponse, web};
use loket_core::Role;
use loket_search::{SearchError, SearchRequest, Sort};
use serde::Deserialize;

const SEARCHERS: &[Role] = &[Role::Admin, Role::FoiOfficer, Role::Clerk];

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// The query (docs/search.md).
    pub q: String,
    /// `relevance` (default), `newest` or `oldest`.
    #[serde(default)]
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<usize>,
}

pub fn problem_of(e: SearchError) -> Problem {
    match e {
        SearchError::Query {
            position,
            message,
            hint,
        } => Problem::new(ProblemCode::InvalidQuery)
            .detail(format!("at position {position}: {message}"))
            .extra(serde_json::json!({"position": position, "hint": hint})),
        SearchError::Cursor(d) => Problem::new(ProblemCode::InvalidCursor)
            .detail(format!("{d}; start the search again without a cursor")),
        SearchError::Store(s) => s.into(),
        other => {
            tracing::error!(error = %other, "search failed");
            Problem::unavailable("the search index is not available right now")
        }
    }
}

fn sort_of(s: Option<&str>) -> Result<Sort, Problem> {
    match s.unwrap_or("relevance") {
        "relevance" => Ok(Sort::Relevance),
        "newest" => Ok(Sort::Newest),
        "oldest" => Ok(Sort::Oldest),
        other => Err(Problem::bad_request(format!(
            "sort `{other}` is not one of relevance, newest, oldest"
        ))),
    }
}

fn service(state: &AppState) -> Result<&loket_search::SearchService, Problem> {
    state
        .search
        .as_ref()
        .ok_or_else(|| Problem::unavailable("search is not enabled on this node"))
}

/// Search every message of the tenant: exact totals, no cap, no time window.
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams),
    responses((status = 200, description = "a page of hits with exact totals"), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn search(
    state: web::Data<AppState>,
    auth: Auth,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(SEARCHERS)?.clone();
    let svc = service(&state)?;
    let params = params.into_inner();
    let mut req = SearchRequest::new(params.q);
    req.sort = sort_of(params.sort.as_deref())?;
    req.cursor = params.cursor;
    req.limit = params.limit;
    let page = svc.search_as(&p, &req).await.map_err(problem_of)?;
    Ok(HttpResponse::Ok().json(page))
}

/// Every hit of a query as JSON lines (for export); the first line holds the totals.
#[utoipa::path(get, path = "/api/v1/search/export", params(SearchParams),
    responses((status = 200, content_type = "application/x-ndjson"), (status = 400, body = Problem)),
    security(("bearer" = [])))]
pub async fn export(
    state: web::Data<AppState>,
    auth: Auth,
    params: web::Query<SearchParams>,
) -> Result<HttpResponse, Problem> {
    let p = auth.require(&[Role::Admin, Role::FoiOfficer])?.clone();
    let svc = service(&state)?;
    let params = params.into_inner();
    let sort = sort_of(params.sort.as_deref())?;
    // Record the search in the audit chain like an interactive one.
    state
        .store
        .audit(
            &p,
            loket_core::AuditAction::Searched,
            loket_core::AuditSubject::new("query", "export"),
            serde_json::json!({"query": params.q, "export": true}),
        )
        .await?;
    let stream = svc
        .stream(p.tenant, &params.q, sort)
        .await
        .map_err(problem_of)?;
    let header = serde_json::json!({"total_messages": stream.total, "total_conversations": stream.total_conversations});
    // Serialise on the blocking pool: a stream can hold millions of hits.
    let body = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, SearchError> {
        let mut out = serde_json::to_vec(&header).unwrap_or_default();
        out.push(b'\n');
        for hit in stream {
            let hit = hit?;
            if let Ok(line) = serde_json::to_vec(&hit) {
                out.extend_from_slice(&line);
                out.push(b'\n');
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| Problem::unavailable(e.to_string()))?
    .map_err(problem_of)?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .body(body))
}
