//! MIME parsing: raw RFC 5322 bytes → `loket_core::Inbound`.
//!
//! The raw bytes are always kept as they are; everything here is derived from them and can
//! be derived again. Parsing never fails: a message that mail-parser cannot read is still
//! returned, flagged `ParseWarning`, with a best-effort sender and text.

use crate::thread::{self, ThreadMarks};
use chrono::TimeZone;
use loket_core::{Address, Channel, ConversationHint, Inbound, MessageFlag, NewAttachment};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};
use std::collections::HashSet;

/// Media type of the raw original of every email.
pub const RAW_CONTENT_TYPE: &str = "message/rfc822";

/// The SMTP envelope (or what IMAP tells us): used where headers are missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `MAIL FROM` address; empty for the null reverse-path `<>`.
    pub mail_from: Option<String>,
    /// Accepted `RCPT TO` addresses.
    pub rcpt_to: Vec<String>,
}

/// A parsed email: the `Inbound` for the store plus the threading marks.
#[derive(Debug, Clone)]
pub struct ParsedEmail {
    pub inbound: Inbound,
    pub marks: ThreadMarks,
    /// The text contains quoted lines or a reply attribution ("Op … schreef", "On … wrote").
    pub has_quote: bool,
}

/// Parses `raw` into an `Inbound` (channel email, key = SHA-256 of raw, conversation hint
/// `Thread` with the marks found). Never fails.
pub fn parse_email(raw: Vec<u8>, envelope: &Envelope) -> ParsedEmail {
    let mut warnings = Vec::new();
    let mut flags = Vec::new();
    let parsed = MessageParser::default().parse(&raw[..]);
    let header_block = header_block(&raw);
    if header_block.iter().any(|b| *b >= 0x80) && std::str::from_utf8(header_block).is_err() {
        warnings.push("8-bit bytes in headers that are not UTF-8; decoded as Latin-1".to_owned());
    }

    let result = match parsed {
        Some(msg) if msg.headers().iter().any(|h| !h.name.is_other()) => {
            let from = msg
                .from()
                .and_then(|a| a.first())
                .or_else(|| msg.sender().and_then(|a| a.first()))
                .and_then(|a| {
                    a.address().map(|addr| Address {
                        address: addr.trim().to_owned(),
                        name: a
                            .name()
                            .map(|n| n.trim().to_owned())
                            .filter(|n| !n.is_empty()),
                    })
                })
                .filter(|a| !a.address.is_empty());
            let from = match from {
                Some(f) => f,
                None => {
                    warnings.push("no From address; using the envelope sender".to_owned());
                    envelope_sender(envelope)
                }
            };
            let mut to: Vec<Address> = Vec::new();
            for list in msg.all_to().chain(msg.all_cc()) {
                for a in list.iter() {
                    if let Some(addr) = a.address() {
                        to.push(Address {
                            address: addr.trim().to_owned(),
                            name: a
                                .name()
                                .map(|n| n.trim().to_owned())
                                .filter(|n| !n.is_empty()),
                        });
                    }
                }
            }
            if to.is_empty() {
                to = envelope.rcpt_to.iter().map(Address::new).collect();
            }
            let subject = msg.subject().map(|s| s.trim().to_owned());

            let mut texts = Vec::new();
            for part in msg.text_bodies() {
                match &part.body {
                    PartType::Text(t) => texts.push(t.to_string()),
                    PartType::Html(h) => texts.push(html_to_text(h)),
                    _ => {}
                }
            }
            let mut text = texts.join("\n\n").trim_end().to_owned();
            let html = msg.html_bodies().find_map(|p| match &p.body {
                PartType::Html(h) => Some(sanitize_html(h)),
                _ => None,
            });
            if text.trim().is_empty()
                && let Some(h) = msg.html_bodies().find_map(|p| match &p.body {
                    PartType::Html(h) => Some(h.to_string()),
                    _ => None,
                })
            {
                text = html_to_text(&h);
            }

            let mut attachments = Vec::new();
            for (i, part) in msg.parts.iter().enumerate() {
                if part.is_encoding_problem {
                    warnings.push(format!(
                        "part {i}: invalid transfer encoding, decoded leniently"
                    ));
                }
            }
            for part in msg.attachments() {
                let content_type = part
                    .content_type()
                    .map(|ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".to_owned())
                    .to_ascii_lowercase();
                attachments.push(NewAttachment {
                    filename: part.attachment_name().map(str::to_owned),
                    content_type,
                    content_id: part.content_id().map(str::to_owned),
                    data: part.contents().to_vec(),
                });
            }

            let sent_at = msg.date().filter(|d| d.is_valid()).and_then(|d| {
                chrono::Utc
                    .timestamp_opt(d.to_timestamp(), 0)
                    .single()
                    .map(loket_core::to_micros)
            });
            if msg.date().is_none() {
                warnings.push("no valid Date header".to_owned());
            }

            // Threading marks.
            let mut references: Vec<String> = Vec::new();
            push_ids(&mut references, msg.references());
            push_ids(&mut references, msg.in_reply_to());
            let mut seen = HashSet::new();
            references.retain(|r| seen.insert(r.clone()));
            let mut marks = ThreadMarks {
                references,
                token: None,
            };
            marks.token = subject
                .as_deref()
                .and_then(thread::token_in_subject)
                .or_else(|| {
                    envelope
                        .rcpt_to
                        .iter()
                        .map(String::as_str)
                        .chain(to.iter().map(|a| a.address.as_str()))
                        .find_map(thread::token_in_address)
                });

            detect_noise(&msg, envelope, subject.as_deref(), &mut flags);

            let has_quote = thread::has_quote(&text);
            let mut inbound = Inbound::new(Channel::Email, from, text, Vec::new());
            inbound.rfc_message_id = msg.message_id().map(normalize_id).filter(|s| !s.is_empty());
            inbound.to = to;
            inbound.subject = subject;
            inbound.html = html;
            inbound.sent_at = sent_at;
            inbound.attachments = attachments;
            (inbound, marks, has_quote)
        }
        _ => {
            warnings.push("message could not be parsed as MIME; archived raw".to_owned());
            let (from, text) = best_effort(&raw, envelope);
            let inbound = Inbound::new(Channel::Email, from, text, Vec::new());
            (inbound, ThreadMarks::default(), false)
        }
    };

    let (mut inbound, marks, has_quote) = result;
    if inbound.text.trim().is_empty() {
        // Something for the clerk to read and the index to find.
        inbound.text = if !inbound.attachments.is_empty() {
            let names: Vec<String> = inbound
                .attachments
                .iter()
                .map(|a| a.filename.clone().unwrap_or_else(|| a.content_type.clone()))
                .collect();
            format!("(geen tekst; bijlagen: {})", names.join(", "))
        } else if let Some(s) = inbound.subject.as_deref().filter(|s| !s.trim().is_empty()) {
            format!("(geen tekst) {s}")
        } else {
            "(leeg bericht)".to_owned()
        };
    }
    if !warnings.is_empty() {
        flags.push(MessageFlag::ParseWarning);
    }
    flags.sort();
    flags.dedup();
    inbound.raw = raw;
    inbound.raw_content_type = RAW_CONTENT_TYPE.to_owned();
    inbound.idempotency_key = None;
    inbound.flags = flags;
    inbound.parse_warnings = warnings;
    inbound.conversation = marks.hint();
    ParsedEmail {
        inbound,
        marks,
        has_quote,
    }
}

/// The conversation hint of an email handed in without an SMTP session (the HTTP API):
/// the marks [`parse_email`] finds in `original` (the RFC 5322 message, when there is
/// one), with `recipients` as the envelope; a token not found there is looked for in
/// `subject` and the recipients' plus-addresses. The store threads it by the same rule
/// as mail that arrived over SMTP or IMAP. Also returns the original's own Message-ID,
/// which later replies name.
pub fn thread_hint(
    original: Option<&[u8]>,
    subject: Option<&str>,
    recipients: &[String],
) -> (ConversationHint, Option<String>) {
    let (mut marks, rfc_message_id) = match original {
        Some(raw) => {
            let envelope = Envelope {
                mail_from: None,
                rcpt_to: recipients.to_vec(),
            };
            let parsed = parse_email(raw.to_vec(), &envelope);
            (parsed.marks, parsed.inbound.rfc_message_id)
        }
        None => (ThreadMarks::default(), None),
    };
    if marks.token.is_none() {
        marks.token = subject
            .and_then(thread::token_in_subject)
            .or_else(|| recipients.iter().find_map(|a| thread::token_in_address(a)));
    }
    (marks.hint(), rfc_message_id)
}

/// Message-IDs are kept without angle brackets and surrounding space.
pub fn normalize_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

fn push_ids(out: &mut Vec<String>, v: &HeaderValue<'_>) {
    match v {
        HeaderValue::Text(t) => out.extend(split_ids(t)),
        HeaderValue::TextList(list) => {
            for t in list {
                out.extend(split_ids(t));
            }
        }
        _ => {}
    }
}

fn split_ids(s: &str) -> Vec<String> {
    s.split(|c: char| c.is_whitespace() || c == ',')
        .map(normalize_id)
        .filter(|s| !s.is_empty())
        .collect()
}

fn envelope_sender(envelope: &Envelope) -> Address {
    match envelope.mail_from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Address::new(s),
        None => Address::new("unknown"),
    }
}

/// The header section of a raw message (up to the first empty line).
fn header_block(raw: &[u8]) -> &[u8] {
    let mut i = 0;
    while i < raw.len() {
        if raw[i..].starts_with(b"\r\n\r\n") || raw[i..].starts_with(b"\n\n") {
            return &raw[..i];
        }
        i += 1;
    }
    raw
}

/// For messages mail-parser cannot read: a `From:` line if there is one, the envelope
/// sender otherwise, and the raw text after the headers.
fn best_effort(raw: &[u8], envelope: &Envelope) -> (Address, String) {
    let text = String::from_utf8_lossy(raw);
    let from = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("from") {
                return None;
            }
            let v = value.trim();
            let addr = match (v.find('<'), v.rfind('>')) {
                (Some(a), Some(b)) if a < b => &v[a + 1..b],
                _ => v,
            };
            (!addr.is_empty()).then(|| Address::new(addr.trim()))
        })
        .unwrap_or_else(|| envelope_sender(envelope));
    let body_start = text
        .find("\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| text.find("\n\n").map(|i| i + 2))
        .unwrap_or(0);
    let body = text[body_start..].trim();
    let body = if body.is_empty() { text.trim() } else { body };
    (from, body.to_owned())
}

/// HTML → readable text (html2text), never failing.
pub fn html_to_text(html: &str) -> String {
    match html2text::from_read(html.as_bytes(), 100) {
        Ok(t) => t.trim_end().to_owned(),
        Err(_) => ammonia::Builder::empty().clean(html).to_string(),
    }
}

/// HTML kept for display: sanitised by ammonia. Images are kept only when they point at
/// an inline part (`cid:`), so displaying a message never loads anything from a third
/// party (no tracking pixels).
pub fn sanitize_html(html: &str) -> String {
    let mut schemes = ammonia::Builder::default().clone_url_schemes();
    schemes.insert("cid");
    ammonia::Builder::default()
        .url_schemes(schemes)
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" && !value.starts_with("cid:") {
                None
            } else {
                Some(value.into())
            }
        })
        .clean(html)
        .to_string()
}

const AUTO_REPLY_SUBJECTS: &[&str] = &[
    "automatic reply",
    "auto reply",
    "autoreply",
    "auto-reply",
    "out of office",
    "out of the office",
    "automatisch antwoord",
    "automatisch bericht",
    "afwezig",
    "afwezigheidsbericht",
    "niet aanwezig",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "autosvar",
    "auto:",
];

/// Auto-replies, bounces, DSNs and bulk mail (RFC 3834, RFC 3464, common vendor headers).
fn detect_noise(
    msg: &mail_parser::Message<'_>,
    envelope: &Envelope,
    subject: Option<&str>,
    flags: &mut Vec<MessageFlag>,
) {
    let raw_header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase());

    if let Some(ct) = msg.root_part().content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        match ct.attribute("report-type").map(str::to_ascii_lowercase) {
            Some(t) if t == "disposition-notification" => flags.push(MessageFlag::AutoReply),
            _ => flags.push(MessageFlag::Bounce),
        }
    }
    if raw_header("X-Failed-Recipients").is_some() {
        flags.push(MessageFlag::Bounce);
    }
    let from_local = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(|a| a.split('@').next())
        .map(str::to_ascii_lowercase);
    if matches!(from_local.as_deref(), Some("mailer-daemon" | "postmaster")) {
        flags.push(MessageFlag::Bounce);
    }
    if let Some(v) = raw_header("Auto-Submitted")
        && v != "no"
        && !v.starts_with("no;")
        && !v.starts_with("no ")
    {
        flags.push(MessageFlag::AutoReply);
    }
    for h in ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"] {
        if let Some(v) = raw_header(h)
            && !v.is_empty()
            && v != "no"
        {
            flags.push(MessageFlag::AutoReply);
        }
    }
    match raw_header("Precedence").as_deref() {
        Some("auto_reply") => flags.push(MessageFlag::AutoReply),
        Some("bulk" | "list" | "junk") => flags.push(MessageFlag::Bulk),
        _ => {}
    }
    if raw_header("List-Id").is_some() || raw_header("List-Unsubscribe").is_some() {
        flags.push(MessageFlag::Bulk);
    }
    if let Some(s) = subject {
        let s = s.trim().to_lowercase();
        if AUTO_REPLY_SUBJECTS.iter().any(|p| s.starts_with(p)) {
            flags.push(MessageFlag::AutoReply);
        }
    }
    // Null reverse-path: only automatic mail uses it (RFC 3834 §3.3, RFC 5321 §4.5.5).
    if envelope.mail_from.as_deref() == Some("")
        && !flags.contains(&MessageFlag::Bounce)
        && !flags.contains(&MessageFlag::AutoReply)
    {
        flags.push(MessageFlag::AutoReply);
    }
}

/// `true` when the message must never be answered automatically.
pub fn is_automatic(flags: &[MessageFlag]) -> bool {
    flags
        .iter()
        .any(|f| matches!(f, MessageFlag::AutoReply | MessageFlag::Bounce))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> ParsedEmail {
        parse_email(raw.as_bytes().to_vec(), &Envelope::default())
    }

    #[test]
    fn plain_text_preferred_over_html() {
        let p = parse(
            "From: Jan <jan@example.org>\r\nTo: info@gemeente.example\r\nSubject: Vraag\r\n\
             Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <a1@example.org>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHallo gemeente\r\n\
             --b\r\nContent-Type: text/html\r\n\r\n<p>Hallo <b>HTML</b><img src=\"https://track.example/p.gif\"><script>x()</script></p>\r\n--b--\r\n",
        );
        let i = &p.inbound;
        assert_eq!(i.from.address, "jan@example.org");
        assert_eq!(i.from.name.as_deref(), Some("Jan"));
        assert_eq!(i.text, "Hallo gemeente");
        let html = i.html.as_deref().unwrap_or_default();
        assert!(html.contains("<b>HTML</b>"), "{html}");
        assert!(
            !html.contains("script") && !html.contains("track.example"),
            "{html}"
        );
        assert_eq!(i.rfc_message_id.as_deref(), Some("a1@example.org"));
        assert!(i.flags.is_empty(), "{:?} {:?}", i.flags, i.parse_warnings);
        assert!(i.sent_at.is_some());
        assert_eq!(i.raw_content_type, "message/rfc822");
        assert_eq!(i.idempotency_key, None);
    }

    #[test]
    fn html_only_is_converted_to_text() {
        let p = parse(
            "From: a@example.org\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nContent-Type: text/html\r\n\r\n\
             <html><body><h1>Titel</h1><p>Eerste alinea.</p><ul><li>punt</li></ul></body></html>\r\n",
        );
        assert!(p.inbound.text.contains("Titel"), "{}", p.inbound.text);
        assert!(p.inbound.text.contains("Eerste alinea."));
        assert!(!p.inbound.text.contains("<p>"));
        assert!(p.inbound.html.is_some());
    }

    #[test]
    fn rfc2047_and_charsets() {
        let p = parse(
            "From: =?iso-8859-1?Q?Ren=E9e_M=FCller?= <renee@example.org>\r\n\
             Subject: =?utf-8?B?R3JvZXRlbiB1aXQgTcO8bmNoZW4=?=\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
             Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        let mut raw = p.inbound.raw.clone();
        raw.extend_from_slice(b"Prijs: \x80 5,-\r\n");
        let p = parse_email(raw, &Envelope::default());
        assert_eq!(p.inbound.from.name.as_deref(), Some("Renée Müller"));
        assert_eq!(p.inbound.subject.as_deref(), Some("Groeten uit München"));
        assert_eq!(p.inbound.text, "Prijs: € 5,-");
        let p = parse(
            "From: a@example.org\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
             Content-Type: text/plain; charset=utf-7\r\n\r\nHi Mom -+Jjo--!\r\n",
        );
        assert_eq!(p.inbound.text, "Hi Mom -\u{263a}-!");
    }

    #[test]
    fn attachments_and_inline_images() {
        let p = parse(
            "From: a@example.org\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
             Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\
             Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n\
             <p>Zie foto <img src=\"cid:foto1\"></p>\r\n--r\r\nContent-Type: image/png\r\n\
             Content-ID: <foto1>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n\
             --m\r\nContent-Type: application/pdf; name=\"brief.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"brief.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             JVBERi0xLjQK\r\n--m--\r\n",
        );
        let a = &p.inbound.attachments;
        assert_eq!(a.len(), 2, "{a:?}");
        let img = a.iter().find(|x| x.content_type == "image/png");
        assert_eq!(img.and_then(|x| x.content_id.as_deref()), Some("foto1"));
        assert_eq!(
            img.map(|x| x.data.clone()),
            Some(b"\x89PNG\r\n\x1a\n".to_vec())
        );
        let pdf = a.iter().find(|x| x.content_type == "application/pdf");
        assert_eq!(pdf.and_then(|x| x.filename.as_deref()), Some("brief.pdf"));
        assert_eq!(pdf.map(|x| x.data.clone()), Some(b"%PDF-1.4\n".to_vec()));
        assert!(
            p.inbound
                .html
                .as_deref()
                .unwrap_or_default()
                .contains("cid:foto1")
        );
    }

    #[test]
    fn unparseable_is_kept_with_warning() {
        let raw = b"\x00\x01\x02 garbage without headers".to_vec();
        let env = Envelope {
            mail_from: Some("x@example.org".into()),
            rcpt_to: vec!["info@gemeente.example".into()],
        };
        let p = parse_email(raw.clone(), &env);
        assert_eq!(p.inbound.raw, raw);
        assert!(p.inbound.flags.contains(&MessageFlag::ParseWarning));
        assert!(!p.inbound.parse_warnings.is_empty());
        assert_eq!(p.inbound.from.address, "x@example.org");
        assert!(!p.inbound.text.is_empty());
    }

    #[test]
    fn missing_from_uses_envelope() {
        let env = Envelope {
            mail_from: Some("env@example.org".into()),
            rcpt_to: vec!["info@gemeente.example".into()],
        };
        let p = parse_email(b"Subject: zonder afzender\r\n\r\ntekst\r\n".to_vec(), &env);
        assert_eq!(p.inbound.from.address, "env@example.org");
        assert_eq!(p.inbound.text, "tekst");
        assert!(p.inbound.flags.contains(&MessageFlag::ParseWarning));
        assert_eq!(p.inbound.to, vec![Address::new("info@gemeente.example")]);
    }

    #[test]
    fn eight_bit_headers_are_read_and_warned() {
        let raw = b"From: J\xe9r\xf4me <j@example.org>\r\nSubject: caf\xe9\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nbody\r\n".to_vec();
        let p = parse_email(raw, &Envelope::default());
        assert_eq!(p.inbound.from.address, "j@example.org");
        assert!(
            p.inbound
                .subject
                .as_deref()
                .unwrap_or_default()
                .starts_with("caf")
        );
        assert!(p.inbound.flags.contains(&MessageFlag::ParseWarning));
    }

    #[test]
    fn auto_replies_bounces_and_bulk_are_flagged() {
        let ooo = parse(
            "From: a@example.org\r\nSubject: Automatisch antwoord: Vraag\r\nAuto-Submitted: auto-replied\r\n\
             Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nIk ben afwezig.\r\n",
        );
        assert!(ooo.inbound.flags.contains(&MessageFlag::AutoReply));
        let exch = parse(
            "From: a@example.org\r\nSubject: Out of Office: x\r\nX-Auto-Response-Suppress: All\r\n\
             Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nweg\r\n",
        );
        assert!(exch.inbound.flags.contains(&MessageFlag::AutoReply));
        let dsn = parse(
            "From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=d\r\n\r\n\
             --d\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--d\r\nContent-Type: message/delivery-status\r\n\r\n\
             Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\nStatus: 5.1.1\r\n--d--\r\n",
        );
        assert!(dsn.inbound.flags.contains(&MessageFlag::Bounce));
        let list = parse(
            "From: news@example.org\r\nPrecedence: bulk\r\nList-Id: <n.example.org>\r\n\
             Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nnieuws\r\n",
        );
        assert!(list.inbound.flags.contains(&MessageFlag::Bulk));
        let normal = parse(
            "From: a@example.org\r\nSubject: Re: afwezigheid van mijn buurman\r\nAuto-Submitted: no\r\n\
             Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nvraag\r\n",
        );
        assert!(
            normal.inbound.flags.is_empty(),
            "{:?}",
            normal.inbound.flags
        );
        let null_sender = parse_email(
            b"From: a@example.org\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nx\r\n".to_vec(),
            &Envelope {
                mail_from: Some(String::new()),
                rcpt_to: vec![],
            },
        );
        assert!(is_automatic(&null_sender.inbound.flags));
    }

    #[test]
    fn thread_marks_are_extracted() {
        let p = parse(
            "From: a@example.org\r\nTo: info+K7Q2MX@gemeente.example\r\nSubject: Re: Vraag [#K7Q2MX]\r\n\
             In-Reply-To: <c@loket>\r\nReferences: <a@x> <b@y>\r\n <c@loket>\r\n\
             Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n\r\nja\r\n\r\n> eerder\r\n",
        );
        assert_eq!(p.marks.references, vec!["a@x", "b@y", "c@loket"]);
        assert_eq!(p.marks.token.as_deref(), Some("K7Q2MX"));
        assert!(p.has_quote);
    }
}
