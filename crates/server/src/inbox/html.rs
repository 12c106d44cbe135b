//! What every inbox page shares: the HTML escaper the templates use, the layout data of
//! the page chrome (`templates/inbox/base.html`), rendering a template into a response,
//! and small text helpers. Pages are askama templates (`crates/server/templates/inbox/`):
//! every `{{ value }}` goes through [`Html`], so nothing from a message, a contact, a user
//! or a request reaches the page unescaped.

use super::i18n::{Lang, Texts};
use crate::problem::{Problem, ProblemCode};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use loket_core::{Actor, Channel, ConversationStatus, Principal, Role};
use std::fmt::{self, Write};

/// The escaper of every inbox template (`templates/askama.toml`): text for element
/// content and for double- or single-quoted attributes. The same five entities the
/// inbox has always written (`&lt;` rather than askama's default `&#60;`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        let mut last = 0;
        // Byte positions are safe to slice at: the five characters are ASCII, and no
        // byte of a multi-byte UTF-8 sequence is.
        for (i, b) in s.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&s[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&s[last..])
    }
}

/// The media type of every inbox page.
pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// Renders a template (for a response that needs more than [`respond`] sets).
pub fn render(page: &impl Template) -> Result<String, Problem> {
    page.render().map_err(|e| {
        // Rendering into a String fails only when a value's formatting fails.
        tracing::error!(error = %e, "inbox template failed to render");
        Problem::new(ProblemCode::Internal)
    })
}

/// Renders a template as an HTML response with `status`.
pub fn respond(status: StatusCode, page: &impl Template) -> HttpResponse {
    match render(page) {
        Ok(body) => HttpResponse::build(status)
            .content_type(CONTENT_TYPE)
            .body(body),
        Err(problem) => actix_web::ResponseError::error_response(&problem),
    }
}

/// Renders a template as a `200 OK` HTML response.
pub fn ok(page: &impl Template) -> HttpResponse {
    respond(StatusCode::OK, page)
}

/// The page chrome: language, title, the language switch and, for a signed-in person,
/// the navigation. Every page template has it as its `layout` field; `base.html`
/// renders it.
pub struct Layout {
    pub lang: &'static str,
    pub t: &'static Texts,
    pub title: String,
    /// The other language (code) and where its switch link leads back to (encoded).
    pub other_lang: &'static str,
    pub back: String,
    pub nav: Option<Nav>,
}

/// The navigation of a signed-in person.
pub struct Nav {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
    pub inbox: bool,
    pub search: bool,
    pub audit: bool,
}

impl Layout {
    /// The chrome of a page titled `title` whose language switch returns to `back`.
    pub fn new(
        lang: Lang,
        title: &str,
        viewer: Option<&Principal>,
        csrf: &str,
        back: &str,
    ) -> Self {
        let nav = viewer.map(|p| {
            let name = match &p.actor {
                Actor::User { name, .. } | Actor::Token { name, .. } | Actor::System { name } => {
                    name.clone()
                }
            };
            Nav {
                name,
                role: p.role.as_str(),
                csrf: csrf.to_owned(),
                inbox: p.role != Role::Auditor,
                search: matches!(p.role, Role::Admin | Role::FoiOfficer),
                audit: matches!(p.role, Role::Admin | Role::Auditor),
            }
        });
        Layout {
            lang: lang.code(),
            t: lang.texts(),
            title: title.to_owned(),
            other_lang: lang.other().code(),
            back: url_enc(back),
            nav,
        }
    }
}

/// Percent-encodes a query value.
pub fn url_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

pub fn channel_name(t: &Texts, c: Channel) -> &'static str {
    match c {
        Channel::Webchat => t.channel_webchat,
        Channel::Email => t.channel_email,
        Channel::Sms => t.channel_sms,
        _ => t.channel_other,
    }
}

/// A decorative icon (hidden from screen readers; the name is given as text).
pub fn channel_icon(c: Channel) -> &'static str {
    match c {
        Channel::Webchat => "💬",
        Channel::Email => "✉",
        Channel::Sms => "📱",
        _ => "⇩",
    }
}

pub fn status_name(t: &Texts, s: ConversationStatus) -> &'static str {
    match s {
        ConversationStatus::Open => t.status_open,
        ConversationStatus::Waiting => t.status_waiting,
        ConversationStatus::Closed => t.status_closed,
    }
}

/// One `<option>` of a `<select>` (`templates/inbox/macros.html`).
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Self {
        let value = value.into();
        Opt {
            selected: value == current,
            value,
            label: label.into(),
        }
    }
}

/// A labelled filter `<select>` with id `f-<name>`.
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub options: Vec<Opt>,
}

/// A short age: "5 min", "3 u", "2 d".
pub fn age(t: &Texts, then: loket_core::Timestamp, now: loket_core::Timestamp) -> String {
    let s = (now - then).num_seconds().max(0);
    if s < 60 {
        t.age_now.to_owned()
    } else if s < 3600 {
        format!("{} {}", s / 60, t.age_minutes)
    } else if s < 86_400 {
        format!("{} {}", s / 3600, t.age_hours)
    } else {
        format!("{} {}", s / 86_400, t.age_days)
    }
}

/// An RFC 3339 time in whole seconds (`<time datetime>`).
pub fn iso(t: loket_core::Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        let _ = Html.write_escaped_str(&mut out, s);
        out
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(esc("café · “quoted” <b>"), "café · “quoted” &lt;b&gt;");
        assert_eq!(esc(""), "");
    }

    #[derive(Template)]
    #[template(
        source = "<p title=\"{{ v }}\">{{ v }}</p>",
        ext = "html",
        config = "templates/askama.toml"
    )]
    struct Probe<'a> {
        v: &'a str,
    }

    #[test]
    fn templates_use_the_inbox_escaper() {
        let out = Probe {
            v: "\"><script>alert(1)</script>",
        }
        .render()
        .unwrap_or_default();
        assert_eq!(
            out,
            "<p title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">\
             &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
    }
}
