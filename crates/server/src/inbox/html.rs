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
use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use loket_core::{Actor, Channel, ConversationStatus, Principal, Role, Timestamp};
use loket_store::inbox::ContactCard;
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
    /// The sections this person may open, in order. Other parts of loket add theirs
    /// with [`Nav::push`] (a count, such as open cases, shows as a badge).
    pub links: Vec<NavLink>,
}

/// One entry of the navigation.
pub struct NavLink {
    pub href: String,
    pub label: String,
    /// A number shown beside the label ("3"), with its meaning for screen readers.
    pub badge: Option<(u64, String)>,
}

impl Nav {
    pub fn push(&mut self, href: impl Into<String>, label: impl Into<String>) -> &mut NavLink {
        self.links.push(NavLink {
            href: href.into(),
            label: label.into(),
            badge: None,
        });
        let last = self.links.len() - 1;
        &mut self.links[last]
    }
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
            let t = lang.texts();
            let mut nav = Nav {
                name,
                role: p.role.as_str(),
                csrf: csrf.to_owned(),
                links: Vec::new(),
            };
            if p.role != Role::Auditor {
                nav.push("/inbox", t.nav_inbox);
            }
            if matches!(p.role, Role::Admin | Role::FoiOfficer) {
                nav.push("/inbox/search", t.nav_search);
            }
            if matches!(p.role, Role::Admin | Role::Auditor) {
                nav.push("/inbox/audit", t.nav_audit);
            }
            nav
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

/// The path data of a channel's icon: an inline SVG (24×24, stroked with the text
/// colour) drawn by `macros.html::channel`, decorative beside the channel's name, so it
/// needs no icon font or emoji glyph the clerk's fonts may lack.
pub fn channel_icon(c: Channel) -> &'static str {
    match c {
        // A speech balloon.
        Channel::Webchat => "M4 5h16v11H9l-5 4z",
        // An envelope.
        Channel::Email => "M3 6h18v12H3zM3 6l9 7 9-7",
        // A phone.
        Channel::Sms => "M7 2h10v20H7zM10 18h4",
        // An inbox tray (imported archives).
        _ => "M3 13h5l1 3h6l1-3h5M5 4h14l2 9v7H3v-7z",
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

/// The time zone of a tenant that has set none, or an unknown one.
pub const DEFAULT_TIME_ZONE: Tz = Tz::Europe__Amsterdam;

/// How the inbox shows times: in the tenant's time zone, in the page's language, with
/// an age relative to one `now` for the whole page. The API and exports keep UTC.
#[derive(Clone, Copy)]
pub struct Clock {
    pub t: &'static Texts,
    pub zone: Tz,
    pub now: Timestamp,
}

impl Clock {
    /// `zone` is an IANA name; an unknown one falls back to [`DEFAULT_TIME_ZONE`].
    pub fn new(t: &'static Texts, zone: Option<&str>, now: Timestamp) -> Self {
        Clock {
            t,
            zone: zone
                .and_then(|z| z.parse::<Tz>().ok())
                .unwrap_or(DEFAULT_TIME_ZONE),
            now,
        }
    }

    /// The local date and time: "29 mrt 2026 03:30".
    pub fn local(&self, at: Timestamp) -> String {
        let l = at.with_timezone(&self.zone);
        let month = self.t.months[l.month0() as usize];
        format!(
            "{} {month} {} {:02}:{:02}",
            l.day(),
            l.year(),
            l.hour(),
            l.minute()
        )
    }

    /// The age: "zojuist", "1 minuut geleden", "3 uur geleden", "2 dagen geleden".
    pub fn ago(&self, at: Timestamp) -> String {
        let t = self.t;
        let s = (self.now - at).num_seconds().max(0);
        let (n, unit) = if s < 60 {
            return t.age_now.to_owned();
        } else if s < 3600 {
            (s / 60, t.age_minute)
        } else if s < 86_400 {
            (s / 3600, t.age_hour)
        } else {
            (s / 86_400, t.age_day)
        };
        let unit = if n == 1 { unit.0 } else { unit.1 };
        format!("{n} {unit} {}", t.age_ago)
    }
}

/// A run of this many hex digits is a hash or a secret's digest, never a name.
const HASH_RUN: usize = 32;

/// Whether `s` holds a hash-like run of hex digits (a chat session's digest).
pub fn has_hash(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run >= HASH_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// `s` with every hash-like hex run cut to its first 8 digits and "…", for text such
/// as audit details that may quote one (the full value stays in the record and the API).
pub fn shorten_hashes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= HASH_RUN {
            out.push_str(&run[..8]);
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The name a person reads for a contact: the name a clerk gave it, else the name the
/// citizen gave (the chat name, the email display name), else the email address or
/// phone number; a contact known only by a hash (an anonymous chat) is
/// "Inwoner 1042 (chat)", its number short and stable within the tenant.
pub fn contact_label(t: &Texts, c: &ContactCard) -> String {
    let readable = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && !has_hash(s))
            .map(str::to_owned)
    };
    if let Some(name) = readable(&c.clerk_name).or_else(|| readable(&c.name)) {
        return name;
    }
    let channel = c.channel.parse::<Channel>().ok();
    if channel != Some(Channel::Webchat) && !has_hash(&c.address) && !c.address.trim().is_empty() {
        return c.address.clone();
    }
    let kind = match channel {
        Some(Channel::Webchat) => "chat",
        Some(other) => channel_name(t, other),
        None => t.channel_other,
    };
    format!("{} {} ({kind})", t.contact_anonymous, c.number.unwrap_or(0))
}

/// An RFC 3339 time in whole seconds (`<time datetime>`).
pub fn iso(t: loket_core::Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::i18n::Lang;
    use askama::filters::Escaper;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        let _ = Html.write_escaped_str(&mut out, s);
        out
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Amsterdam moves to summer time at 01:00 UTC on 29 March 2026 and back at 01:00
    /// UTC on 25 October 2026 (02:30 local happens twice then). Expected values by hand.
    #[test]
    fn times_are_local_to_the_tenant_across_dst() {
        let t = Lang::Nl.texts();
        let clock = Clock::new(t, None, utc("2026-12-03T12:00:00Z"));
        assert_eq!(
            clock.local(utc("2026-03-29T00:30:00Z")),
            "29 mrt 2026 01:30"
        );
        assert_eq!(
            clock.local(utc("2026-03-29T01:30:00Z")),
            "29 mrt 2026 03:30"
        );
        assert_eq!(
            clock.local(utc("2026-10-25T00:30:00Z")),
            "25 okt 2026 02:30"
        );
        assert_eq!(
            clock.local(utc("2026-10-25T01:30:00Z")),
            "25 okt 2026 02:30"
        );
        assert_eq!(clock.local(utc("2026-12-03T08:50:00Z")), "3 dec 2026 09:50");
        let london = Clock::new(t, Some("Europe/London"), utc("2026-12-03T12:00:00Z"));
        assert_eq!(
            london.local(utc("2026-03-29T01:30:00Z")),
            "29 mrt 2026 02:30"
        );
        let unknown = Clock::new(t, Some("Mars/Olympus"), utc("2026-12-03T12:00:00Z"));
        assert_eq!(
            unknown.local(utc("2026-12-03T08:50:00Z")),
            "3 dec 2026 09:50"
        );
    }

    #[test]
    fn ages_are_relative() {
        let t = Lang::Nl.texts();
        let clock = Clock::new(t, None, utc("2026-12-03T12:00:00Z"));
        assert_eq!(clock.ago(utc("2026-12-03T11:59:30Z")), "zojuist");
        assert_eq!(clock.ago(utc("2026-12-03T11:59:00Z")), "1 minuut geleden");
        assert_eq!(clock.ago(utc("2026-12-03T09:00:00Z")), "3 uur geleden");
        assert_eq!(clock.ago(utc("2026-12-01T12:00:00Z")), "2 dagen geleden");
        assert_eq!(
            Clock::new(Lang::En.texts(), None, clock.now).ago(utc("2026-12-03T09:00:00Z")),
            "3 hours ago"
        );
    }

    #[test]
    fn contacts_are_named_for_people_never_by_hash() {
        let t = Lang::Nl.texts();
        let card =
            |channel: &str, address: &str, name: Option<&str>, clerk: Option<&str>| ContactCard {
                id: "c".into(),
                channel: channel.into(),
                address: address.into(),
                name: name.map(Into::into),
                clerk_name: clerk.map(Into::into),
                number: Some(1042),
            };
        let hash = format!("session:{}", "ab12".repeat(16));
        assert_eq!(
            contact_label(t, &card("webchat", &hash, None, None)),
            "Inwoner 1042 (chat)"
        );
        assert_eq!(
            contact_label(t, &card("webchat", &hash, Some("Piet"), None)),
            "Piet"
        );
        assert_eq!(
            contact_label(t, &card("webchat", &hash, Some("Piet"), Some("Mevr. Smit"))),
            "Mevr. Smit"
        );
        assert_eq!(
            contact_label(t, &card("email", "a@b.nl", Some("An Jansen"), None)),
            "An Jansen"
        );
        assert_eq!(
            contact_label(t, &card("email", "a@b.nl", None, None)),
            "a@b.nl"
        );
        assert_eq!(
            contact_label(t, &card("sms", "+31612345678", None, None)),
            "+31612345678"
        );
        assert_eq!(
            shorten_hashes(&format!("x {} y", "0f".repeat(32))),
            "x 0f0f0f0f… y"
        );
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
