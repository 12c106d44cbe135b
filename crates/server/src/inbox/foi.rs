//! The FOI search page (issue 8): query box with syntax help, order, exact counts, hits
//! grouped by conversation with a link to the whole conversation. Every search is
//! recorded in the audit chain by `SearchService::search_as` (the Woo search log).

use super::html::{self, channel_name, esc, url_enc};
use super::{error_page, lang_of, page_session, to_login};
use crate::AppState;
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use loket_core::Role;
use loket_search::{SearchError, SearchRequest, Sort};
use serde::Deserialize;
use std::fmt::Write;

/// Who may search the whole archive.
pub const FOI_SEARCHERS: &[Role] = &[Role::Admin, Role::FoiOfficer];

#[derive(Deserialize)]
pub struct FoiQuery {
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

pub async fn search_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<FoiQuery>,
) -> Result<HttpResponse, Problem> {
    let Some(s) = page_session(&req, &state).await? else {
        return Ok(to_login());
    };
    let principal = s.session.principal.clone();
    if !FOI_SEARCHERS.contains(&principal.role) {
        return Ok(error_page(&req, StatusCode::FORBIDDEN, Some(&s)));
    }
    let lang = lang_of(&req);
    let t = lang.texts();
    let query = q.q.clone().unwrap_or_default();
    let sort_name = q.sort.clone().unwrap_or_else(|| "relevance".into());
    let sort = match sort_name.as_str() {
        "newest" => Sort::Newest,
        "oldest" => Sort::Oldest,
        _ => Sort::Relevance,
    };
    let mut body = format!("<h1>{}</h1><p>{}</p>", t.search_title, t.search_intro);
    let _ = write!(
        body,
        "<form method=\"get\" action=\"/inbox/search\" role=\"search\" class=\"filters\">\
         <p><label for=\"foi-q\">{label}</label>\
         <input id=\"foi-q\" name=\"q\" type=\"search\" value=\"{value}\" aria-describedby=\"foi-help\" size=\"60\"></p>\
         <p><label for=\"foi-sort\">{sort_label}</label><select id=\"foi-sort\" name=\"sort\">",
        label = t.foi_query_label,
        value = esc(&query),
        sort_label = t.search_sort,
    );
    for (v, text) in [
        ("relevance", t.sort_relevance),
        ("newest", t.sort_newest),
        ("oldest", t.sort_oldest),
    ] {
        let sel = if v == sort_name { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{v}\"{sel}>{text}</option>");
    }
    let _ = write!(
        body,
        "</select></p><p><button type=\"submit\">{}</button></p>\
         <details id=\"foi-help\"><summary>{}</summary><p>{}</p></details></form>",
        t.search_submit,
        t.search_help_title,
        esc(t.search_help)
    );
    if !query.trim().is_empty() {
        match &state.search {
            None => {
                let _ = write!(body, "<p role=\"alert\">{}</p>", t.search_unavailable);
            }
            Some(svc) => {
                let mut sr = SearchRequest::new(query.clone());
                sr.sort = sort;
                sr.cursor = q.cursor.clone();
                sr.limit = Some(20);
                match svc.search_as(&principal, &sr).await {
                    Ok(page) => results(&mut body, t, &query, &sort_name, &page),
                    Err(SearchError::Query {
                        position,
                        message,
                        hint,
                    }) => {
                        let _ = write!(
                            body,
                            "<div role=\"alert\" class=\"notice\"><h2>{}</h2><p>{} [{}]</p><p>{}</p></div>",
                            t.search_error,
                            esc(&message),
                            position,
                            esc(&hint)
                        );
                    }
                    Err(SearchError::Cursor(d)) => {
                        let _ = write!(body, "<p role=\"alert\">{}</p>", esc(&d));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "FOI search failed");
                        let _ = write!(body, "<p role=\"alert\">{}</p>", t.search_unavailable);
                    }
                }
            }
        }
    }
    let v = html::Viewer {
        principal: &s.session.principal,
        csrf: &s.session.csrf_token,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html::page(
            lang,
            t.search_title,
            Some(&v),
            "/inbox/search",
            &body,
        )))
}

fn results(
    body: &mut String,
    t: &super::i18n::Texts,
    query: &str,
    sort: &str,
    page: &loket_search::SearchPage,
) {
    let _ = write!(
        body,
        "<p class=\"totals\" aria-live=\"polite\"><strong>{}</strong> {} · <strong>{}</strong> {} · \
         <a href=\"/api/v1/search/export?q={}&amp;sort={}\">{}</a></p>",
        page.total_messages,
        t.search_messages,
        page.total_conversations,
        t.search_conversations,
        url_enc(query),
        url_enc(sort),
        t.search_export
    );
    if page.hits.is_empty() {
        let _ = write!(body, "<p>{}</p>", t.search_none);
        return;
    }
    for group in &page.groups {
        let _ = write!(
            body,
            "<section class=\"hit-group\"><h2><a href=\"/inbox/c/{id}\">{open}</a></h2><ol class=\"hits\">",
            id = group.conversation_id,
            open = t.search_open_conversation
        );
        for &i in &group.hits {
            let Some(h) = page.hits.get(i) else { continue };
            // `snippet_html` is escaped by loket-search; only <mark> is markup.
            let _ = write!(
                body,
                "<li><p><time datetime=\"{iso}\">{time}</time> · {channel} · {from}{subject}</p><p class=\"snippet\">{snippet}</p></li>",
                iso = h
                    .received_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                time = h.received_at.format("%Y-%m-%d %H:%M"),
                channel = channel_name(t, h.channel),
                from = esc(&h.from),
                subject = h
                    .subject
                    .as_deref()
                    .map(|s| format!(" · {}", esc(s)))
                    .unwrap_or_default(),
                snippet = h.snippet_html,
            );
        }
        body.push_str("</ol></section>");
    }
    if let Some(c) = &page.next_cursor {
        let _ = write!(
            body,
            "<p><a rel=\"next\" href=\"/inbox/search?q={}&amp;sort={}&amp;cursor={}\">{}</a></p>",
            url_enc(query),
            url_enc(sort),
            url_enc(c),
            t.next_page
        );
    }
}
