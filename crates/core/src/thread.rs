//! Email threading rule: which conversation a message with thread marks joins. One rule
//! for every path an email arrives by (SMTP, IMAP, the HTTP API), applied by the store
//! in both its single and its grouped ingest; the marks themselves (Message-ID headers,
//! the token in the subject or plus-address) are found by the mail crate's parser.
//!
//! Order:
//! 1. `In-Reply-To` / `References`: the most specific Message-ID that names a message of
//!    the tenant (loket's own outbound Message-IDs carry the message id, so they resolve
//!    without any lookup table);
//! 2. the conversation token in the subject (`[#K7Q2MX]`) or in a plus-address
//!    (`info+K7Q2MX@…`);
//! 3. otherwise a new conversation.
//!
//! New-topic rule: a message found *only* through its Message-ID headers starts a new
//! conversation when it looks like a fresh mail written with the reply button: its subject
//! has no reply prefix (`Re:`, `Antw:`, `AW:`, …), differs from the conversation's subject,
//! and its text quotes nothing. A token in the subject or address always wins: the citizen
//! (or the clerk who wrote it) said explicitly which conversation it is.

use crate::MessageId;

/// The conversation a message with thread marks joins (`None`: a new one).
/// `by_reference`: the conversation of its most specific Message-ID that names a message
/// of the tenant, with that conversation's subject; `by_token`: the conversation its
/// token names. `subject` and `text` are the message's own.
pub fn join_thread<C>(
    by_reference: Option<(C, Option<&str>)>,
    by_token: Option<C>,
    subject: Option<&str>,
    text: &str,
) -> Option<C> {
    match (by_reference, by_token) {
        // The headers name the conversation; the token vouches for it (no new-topic split).
        (Some((c, _)), Some(_)) => Some(c),
        (None, Some(c)) => Some(c),
        (Some((c, conversation_subject)), None) => {
            if is_new_topic(
                Found::References,
                subject,
                conversation_subject,
                has_quote(text),
            ) {
                None
            } else {
                Some(c)
            }
        }
        (None, None) => None,
    }
}

const REPLY_PREFIXES: &[&str] = &[
    "re", "aw", "antw", "antwoord", "sv", "vs", "ref", "réf", "rif", "odp", "fw", "fwd", "wg",
    "doorst", "tr", "enc", "rv",
];

/// Strips reply/forward prefixes and conversation tags: `Re: AW: Vraag [#K7Q2]` → `vraag`.
pub fn normalize_subject(subject: &str) -> String {
    let mut s = subject.trim().to_string();
    // Remove tags like [#TOKEN] and [EXTERNAL].
    while let (Some(a), Some(b)) = (s.find('['), s.find(']')) {
        if a < b {
            s.replace_range(a..=b, " ");
        } else {
            break;
        }
    }
    let mut s = s.trim().to_lowercase();
    loop {
        let before = s.clone();
        for p in REPLY_PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                let rest = rest.trim_start();
                // `Re:`, `Re[2]:` (brackets were removed above), `Re :`
                if let Some(rest) = rest.strip_prefix(':') {
                    s = rest.trim().to_owned();
                    break;
                }
            }
        }
        if s == before {
            break;
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The subject starts with a reply or forward prefix.
pub fn is_reply_subject(subject: &str) -> bool {
    let s = subject.trim().to_lowercase();
    REPLY_PREFIXES.iter().any(|p| {
        s.strip_prefix(p)
            .map(|r| {
                let r = r.trim_start();
                let r = if r.starts_with('[') {
                    r.split_once(']').map_or(r, |(_, x)| x).trim_start()
                } else {
                    r
                };
                r.starts_with(':')
            })
            .unwrap_or(false)
    })
}

/// Quoted text: lines starting with `>`, or an attribution line of a common client.
pub fn has_quote(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim_start();
        if t.starts_with('>') {
            return true;
        }
        let lower = t.to_lowercase();
        (lower.starts_with("op ") && lower.contains("schreef"))
            || (lower.starts_with("on ") && lower.trim_end().ends_with("wrote:"))
            || (lower.starts_with("am ") && lower.contains("schrieb"))
            || lower.starts_with("-----original message-----")
            || lower.starts_with("-----oorspronkelijk bericht-----")
    })
}

/// Why a message joins or leaves a conversation; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Through a token the message carries.
    Token,
    /// Only through In-Reply-To / References.
    References,
}

/// The new-topic rule: `true` when a message found only through its Message-ID headers
/// is a new topic and must start a new conversation.
pub fn is_new_topic(
    found: Found,
    subject: Option<&str>,
    conversation_subject: Option<&str>,
    has_quote: bool,
) -> bool {
    if found == Found::Token || has_quote {
        return false;
    }
    let Some(subject) = subject.filter(|s| !s.trim().is_empty()) else {
        return false;
    };
    if is_reply_subject(subject) {
        return false;
    }
    let ours = normalize_subject(subject);
    match conversation_subject {
        Some(c) => normalize_subject(c) != ours,
        None => true,
    }
}

/// Message-ID loket gives an outbound message: `loket.<message id>@<tenant domain>`.
/// Replies to it resolve to the message without a lookup table.
pub fn outbound_message_id(id: MessageId, domain: &str) -> String {
    format!("loket.{}@{}", id, domain)
}

/// The message id inside one of loket's own Message-IDs.
pub fn parse_outbound_message_id(rfc_id: &str) -> Option<MessageId> {
    let id = rfc_id.trim().trim_start_matches('<');
    let rest = id.strip_prefix("loket.")?;
    let (uuid, _) = rest.split_once('@')?;
    uuid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        assert_eq!(normalize_subject("Re: AW: Vraag [#K7Q2MX]"), "vraag");
        assert_eq!(
            normalize_subject("Antw: re : Paspoort  aanvragen"),
            "paspoort aanvragen"
        );
        assert!(is_reply_subject("RE: x"));
        assert!(is_reply_subject("Re[2]: x"));
        assert!(is_reply_subject("Antw: x"));
        assert!(!is_reply_subject("Reparatie lantaarnpaal"));
    }

    #[test]
    fn new_topic_rule() {
        // Reply button, new subject, nothing quoted: new topic.
        assert!(is_new_topic(
            Found::References,
            Some("Parkeervergunning"),
            Some("Paspoort"),
            false
        ));
        // Normal reply.
        assert!(!is_new_topic(
            Found::References,
            Some("Re: Paspoort"),
            Some("Paspoort"),
            false
        ));
        // Quoting keeps it in the conversation.
        assert!(!is_new_topic(
            Found::References,
            Some("Parkeren"),
            Some("Paspoort"),
            true
        ));
        // Token always wins.
        assert!(!is_new_topic(
            Found::Token,
            Some("Parkeren"),
            Some("Paspoort"),
            false
        ));
        // Same subject without prefix.
        assert!(!is_new_topic(
            Found::References,
            Some("paspoort"),
            Some("Paspoort"),
            false
        ));
    }

    #[test]
    fn quotes() {
        assert!(has_quote("ja\n\n> vraag"));
        assert!(has_quote(
            "ja\nOp di 24 nov 2026 om 10:00 schreef Gemeente <info@x>:\n"
        ));
        assert!(has_quote(
            "yes\nOn Tue, Nov 24, 2026 at 10:00 AM Gemeente wrote:\n"
        ));
        assert!(!has_quote("gewoon tekst"));
    }

    #[test]
    fn outbound_ids_round_trip() {
        let id = MessageId::new();
        let rfc = outbound_message_id(id, "gemeente.example");
        assert_eq!(parse_outbound_message_id(&rfc), Some(id));
        assert_eq!(parse_outbound_message_id(&format!("<{rfc}>")), Some(id));
        assert_eq!(parse_outbound_message_id("abc@x"), None);
    }

    #[test]
    fn join_thread_applies_the_order_and_the_new_topic_split() {
        let text = "gewoon tekst";
        // Headers alone, fresh subject, nothing quoted: a new conversation.
        assert_eq!(
            join_thread(Some((1, Some("Paspoort"))), None, Some("Parkeren"), text),
            None
        );
        // Headers alone, a reply subject: joins.
        assert_eq!(
            join_thread(
                Some((1, Some("Paspoort"))),
                None,
                Some("Re: Paspoort"),
                text
            ),
            Some(1)
        );
        // Headers alone, quoting: joins.
        assert_eq!(
            join_thread(
                Some((1, Some("Paspoort"))),
                None,
                Some("Parkeren"),
                "> vraag"
            ),
            Some(1)
        );
        // Headers and a token: the headers' conversation, never split.
        assert_eq!(
            join_thread(Some((1, Some("Paspoort"))), Some(2), Some("Parkeren"), text),
            Some(1)
        );
        // A token alone.
        assert_eq!(join_thread(None, Some(2), Some("Parkeren"), text), Some(2));
        // Nothing found.
        assert_eq!(join_thread::<i32>(None, None, Some("Re: x"), text), None);
    }
}
