//! Threading marks of an email: the conversation token in the subject or a plus-address,
//! addresses without their plus-tag, and the reply subject of an outbound mail. The rule
//! that decides which conversation a message joins is `loket_core::thread` (re-exported
//! here), applied by the store for every path an email arrives by; see docs/mail.md.

use loket_core::ConversationHint;
use loket_core::message::TOKEN_ALPHABET;
pub use loket_core::thread::{
    Found, has_quote, is_new_topic, is_reply_subject, join_thread, normalize_subject,
    outbound_message_id, parse_outbound_message_id,
};

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
    fn reply_subjects() {
        assert_eq!(
            reply_subject(Some("Vraag"), "K7Q2MX"),
            "Re: Vraag [#K7Q2MX]"
        );
        assert_eq!(
            reply_subject(Some("Re: Vraag [#K7Q2MX]"), "K7Q2MX"),
            "Re: Vraag [#K7Q2MX]"
        );
    }
}
