//! The FOI search page: query box with syntax help, order, exact counts, hits grouped
//! by conversation with a link to the whole conversation. Every search is recorded in
//! the audit chain by `SearchService::search_as` (the Woo search log).

use super::{clock, layout};
use crate::AppState;
use crate::inbox::html::{self, Clock, Layout, Opt, channel_name};
use crate::inbox::i18n::Texts;
use crate::inbox::{error_page, lang_of, page_session, to_login};
use crate::problem::Problem;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use loket_core::Role;
use loket_search::{SearchError, SearchRequest, Sort};
use serde::Deserialize;

/// Who may search the whole archive.
pub const FOI_SEARCHERS: &[Role] = &[Role::Admin, Role::FoiOfficer];

#[derive(Deserialize)]
pub struct FoiQuery {
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

/// What the page shows under the form.
enum Outcome {
    /// No query yet.
    Nothing,
    Alert(String),
    QueryError(QueryError),
    Results(Results),
}

struct QueryError {
    message: String,
    position: usize,
    hint: String,
}

struct Results {
    total_messages: u64,
    total_conversations: u64,
    /// The JSONL export of the same search.
    export: String,
    /// No hits at all.
    none: bool,
    groups: Vec<Group>,
    next: Option<String>,
}

/// The hits of one conversation.
struct Group {
    id: String,
    hits: Vec<Hit>,
}

struct Hit {
    iso: String,
    time: String,
    channel: &'static str,
    from: String,
    subject: Option<String>,
    snippet: Vec<Part>,
}

/// A piece of a snippet: plain text, or a match.
#[derive(Debug, PartialEq)]
struct Part {
    text: String,
    marked: bool,
}

#[derive(Template)]
#[template(path = "inbox/search.html", config = "templates/askama.toml")]
struct SearchPage {
    layout: Layout,
    t: &'static Texts,
    query: String,
    sorts: Vec<Opt>,
    outcome: Outcome,
}

/// Turns loket-search's snippet (escaped text with `<mark>` around matches) back into
/// text parts, so that the template escapes every part itself and no markup from the
/// search crate is written as it is.
fn snippet_parts(snippet_html: &str) -> Vec<Part> {
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
    let mut parts = Vec::new();
    let mut push = |s: &str, marked: bool| {
        if !s.is_empty() {
            parts.push(Part {
                text: unescape(s),
                marked,
            });
        }
    };
    let mut rest = snippet_html;
    while let Some(start) = rest.find("<mark>") {
        push(&rest[..start], false);
        let inner = &rest[start + "<mark>".len()..];
        let end = inner.find("</mark>").unwrap_or(inner.len());
        push(&inner[..end], true);
        rest = inner.get(end + "</mark>".len()..).unwrap_or("");
    }
    push(rest, false);
    parts
}

fn results(query: &str, sort: &str, page: &loket_search::SearchPage, clock: &Clock) -> Results {
    let t = clock.t;
    let groups = page
        .groups
        .iter()
        .map(|group| Group {
            id: group.conversation_id.to_string(),
            hits: group
                .hits
                .iter()
                .filter_map(|&i| page.hits.get(i))
                .map(|h| Hit {
                    iso: html::iso(h.received_at),
                    time: clock.local(h.received_at),
                    channel: channel_name(t, h.channel),
                    // An anonymous chat's address is a hash: the page names the kind.
                    from: if html::has_hash(&h.from) {
                        format!("{} ({})", t.contact_anonymous, channel_name(t, h.channel))
                    } else {
                        h.from.clone()
                    },
                    subject: h.subject.clone(),
                    snippet: snippet_parts(&h.snippet_html),
                })
                .collect(),
        })
        .collect();
    Results {
        total_messages: page.total_messages,
        total_conversations: page.total_conversations,
        export: format!(
            "/api/v1/search/export?q={}&sort={}",
            html::url_enc(query),
            html::url_enc(sort)
        ),
        none: page.hits.is_empty(),
        groups,
        next: page.next_cursor.as_ref().map(|c| {
            format!(
                "/inbox/search?q={}&sort={}&cursor={}",
                html::url_enc(query),
                html::url_enc(sort),
                html::url_enc(c)
            )
        }),
    }
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
    let t = lang_of(&req).texts();
    let clock = clock(&req, &state, &s).await?;
    let query = q.q.clone().unwrap_or_default();
    let sort_name = q.sort.clone().unwrap_or_else(|| "relevance".into());
    let sort = match sort_name.as_str() {
        "newest" => Sort::Newest,
        "oldest" => Sort::Oldest,
        _ => Sort::Relevance,
    };
    let outcome = if query.trim().is_empty() {
        Outcome::Nothing
    } else {
        match &state.search {
            None => Outcome::Alert(t.search_unavailable.to_owned()),
            Some(svc) => {
                let mut sr = SearchRequest::new(query.clone());
                sr.sort = sort;
                sr.cursor = q.cursor.clone();
                sr.limit = Some(20);
                match svc.search_as(&principal, &sr).await {
                    Ok(page) => Outcome::Results(results(&query, &sort_name, &page, &clock)),
                    Err(SearchError::Query {
                        position,
                        message,
                        hint,
                    }) => Outcome::QueryError(QueryError {
                        message,
                        position,
                        hint,
                    }),
                    Err(SearchError::Cursor(d)) => Outcome::Alert(d),
                    Err(e) => {
                        tracing::error!(error = %e, "FOI search failed");
                        Outcome::Alert(t.search_unavailable.to_owned())
                    }
                }
            }
        }
    };
    let page = SearchPage {
        layout: layout(&req, &s, t.search_title, "/inbox/search"),
        t,
        sorts: [
            ("relevance", t.sort_relevance),
            ("newest", t.sort_newest),
            ("oldest", t.sort_oldest),
        ]
        .into_iter()
        .map(|(v, text)| Opt::new(v, text, &sort_name))
        .collect(),
        query,
        outcome,
    };
    Ok(html::ok(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(text: &str, marked: bool) -> Part {
        Part {
            text: text.into(),
            marked,
        }
    }

    #[test]
    fn snippets_become_text_parts() {
        assert_eq!(
            snippet_parts("Mijn &lt;<mark>vergunningen</mark>&gt; &amp;lt; <mark>boom</mark>"),
            vec![
                part("Mijn <", false),
                part("vergunningen", true),
                part("> &lt; ", false),
                part("boom", true),
            ]
        );
        assert_eq!(snippet_parts(""), vec![]);
        // An unclosed mark still ends as text, never as markup.
        assert_eq!(
            snippet_parts("a<mark>b"),
            vec![part("a", false), part("b", true)]
        );
    }
}
