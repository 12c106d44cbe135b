//! Threading: which conversation an inbound email belongs to.
//!
//! Order (docs/mail.md, "Threading"):
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

use loket_core::message::TOKEN_ALPHABET;
use loket_core::{ConversationHint, MessageId};

/// Threading marks found in a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadMarks {
    /// Message-IDs from References then In-Reply-To (most specific last), without `<>`.
    pub references: Vec<String>,
    /// Conversation token from the subject or a plus-address, upper case.
    pub token: Option<String>,
}

impl ThreadMarks {
    /// The hint for the store when the adapter does not resolve the thread itself.
    pub fn hint(&self) -> ConversationHint {
        if self.references.is_empty() && self.token.is_none() {
            ConversationHint::New
        } else {
            ConversationHint::Thread {
                references: self.references.clone(),
                token: self.token.clone(),
            }
        }
    }
}

fn is_token(s: &str) -> bool {
    (4..=8).contains(&s.len())
        && s.bytes()
            .all(|b| TOKEN_ALPHABET.contains(&b.to_ascii_uppercase()))
}

/// `[#K7Q2MX]` anywhere in the subject.
pub fn token_in_subject(subject: &str) -> Option<String> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find(']') {
            let candidate = after[..end].trim();
            if is_token(candidate) {
                return Some(candidate.to_ascii_uppercase());
            }
        }
        rest = after;
    }
    None
}

/// `info+K7Q2MX@gemeente.example` → `K7Q2MX`.
pub fn token_in_address(address: &str) -> Option<String> {
    let (local, _) = address.trim().rsplit_once('@')?;
    let (_, tag) = local.split_once('+')?;
    is_token(tag).then(|| tag.to_ascii_uppercase())
}

/// The address without its plus-tag, lower case: `Info+K7Q2@X.nl` → `info@x.nl`.
pub fn base_address(address: &str) -> String {
    let a = address.trim().trim_start_matches('<').trim_end_matches('>');
    match a.rsplit_once('@') {
        Some((local, domain)) => {
            let local = local.split_once('+').map_or(local, |(l, _)| l);
            format!("{}@{}", local.to_lowercase(), domain.to_lowercase())
        }
        None => a.to_lowercase(),
    }
}

/// The domain of an address, lower case.
pub fn domain_of(address: &str) -> Option<String> {
    address
        .trim()
        .trim_end_matches('>')
        .rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .filter(|d| !d.is_empty())
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

/// `Vraag` → `Re: Vraag [#K7Q2MX]` (no duplicate prefixes or tags).
pub fn reply_subject(original: Option<&str>, token: &str) -> String {
    let base = original.map(str::trim).unwrap_or("");
    let tag = format!("[#{token}]");
    let mut s = if base.is_empty() {
        "Uw bericht".to_owned()
    } else if is_reply_subject(base) {
        base.to_owned()
    } else {
        format!("Re: {base}")
    };
    if !s.to_ascii_uppercase().contains(&tag.to_ascii_uppercase()) {
        s.push(' ');
        s.push_str(&tag);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(
            token_in_subject("Re: Vraag [#k7q2mx]").as_deref(),
            Some("K7Q2MX")
        );
        assert_eq!(
            token_in_subject("[#] [#OK] [#K7Q2MX]").as_deref(),
            Some("K7Q2MX")
        );
        assert_eq!(token_in_subject("Vraag [#0OIL11]"), None);
        assert_eq!(
            token_in_address("info+K7Q2MX@x.nl").as_deref(),
            Some("K7Q2MX")
        );
        assert_eq!(token_in_address("info@x.nl"), None);
        assert_eq!(base_address("Info+K7Q2@X.NL"), "info@x.nl");
    }

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
        assert_eq!(
            reply_subject(Some("Vraag"), "K7Q2MX"),
            "Re: Vraag [#K7Q2MX]"
        );
        assert_eq!(
            reply_subject(Some("Re: Vraag [#K7Q2MX]"), "K7Q2MX"),
            "Re: Vraag [#K7Q2MX]"
        );
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
}
