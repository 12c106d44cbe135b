//! HTML building blocks: escaping and the page frame. Every value from a message, a
//! contact or a user goes through [`esc`]; nothing from the database is ever written
//! into a script or an attribute without it.

use super::i18n::{Lang, Texts};
use loket_core::{Channel, ConversationStatus, Principal, Role};
use std::fmt::Write;

/// Escapes text for HTML element content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

/// Who is looking at the page (for the header).
pub struct Viewer<'a> {
    pub principal: &'a Principal,
    pub csrf: &'a str,
}

/// The page frame: language, skip link, navigation, main landmark.
pub fn page(
    lang: Lang,
    title: &str,
    viewer: Option<&Viewer<'_>>,
    back: &str,
    body: &str,
) -> String {
    let t = lang.texts();
    let mut nav = String::new();
    if let Some(v) = viewer {
        let name = match &v.principal.actor {
            loket_core::Actor::User { name, .. } | loket_core::Actor::Token { name, .. } => {
                name.clone()
            }
            loket_core::Actor::System { name } => name.clone(),
        };
        let _ = write!(nav, "<ul class=\"nav\">");
        if v.principal.role != Role::Auditor {
            let _ = write!(nav, "<li><a href=\"/inbox\">{}</a></li>", t.nav_inbox);
        }
        if matches!(v.principal.role, Role::Admin | Role::FoiOfficer) {
            let _ = write!(
                nav,
                "<li><a href=\"/inbox/search\">{}</a></li>",
                t.nav_search
            );
        }
        if matches!(v.principal.role, Role::Admin | Role::Auditor) {
            let _ = write!(nav, "<li><a href=\"/inbox/audit\">{}</a></li>", t.nav_audit);
        }
        let _ = write!(
            nav,
            "<li><a href=\"/inbox/lang/{}?back={}\" lang=\"{}\">{}</a></li>\
             <li class=\"who\">{} {} ({})</li>\
             <li><form method=\"post\" action=\"/inbox/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" class=\"linkish\">{}</button></form></li></ul>",
            lang.other().code(),
            url_enc(back),
            lang.other().code(),
            t.switch_language,
            t.signed_in_as,
            esc(&name),
            esc(v.principal.role.as_str()),
            esc(v.csrf),
            t.logout
        );
    } else {
        let _ = write!(
            nav,
            "<ul class=\"nav\"><li><a href=\"/inbox/lang/{}?back={}\" lang=\"{}\">{}</a></li></ul>",
            lang.other().code(),
            url_enc(back),
            lang.other().code(),
            t.switch_language
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · loket</title>\
         <link rel=\"stylesheet\" href=\"/inbox/static/inbox.css\">\
         <script src=\"/inbox/static/inbox.js\" defer></script></head>\
         <body><a class=\"skip\" href=\"#main\">{skip}</a>\
         <header class=\"top\"><span class=\"brand\">loket</span>\
         <nav aria-label=\"{navl}\">{nav}</nav></header>\
         <main id=\"main\" tabindex=\"-1\">{body}</main>\
         <div id=\"live\" class=\"sr-only\" aria-live=\"polite\" data-text=\"{live}\"></div>\
         </body></html>",
        lang = lang.code(),
        title = esc(title),
        skip = t.skip_link,
        navl = t.nav_label,
        live = t.live_new,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
