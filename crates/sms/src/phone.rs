//! Phone numbers in E.164, parsed by the `phonenumber` crate (libphonenumber's data) with
//! the Netherlands as the region of numbers without a country code.

use phonenumber::Mode;
use phonenumber::country::Id;

/// `+31612345678` for `0612345678`, `31612345678`, `+31 6 1234 5678`, `0031612345678`.
/// `None` for what is not a possible phone number (short codes and alphanumeric senders
/// are kept as they are by [`normalise_sender`]).
pub fn to_e164(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return None;
    }
    let digits_only = trimmed.chars().all(|c| c.is_ascii_digit());
    // Providers often send international numbers without the '+' (Vonage, Bird, CM).
    let candidates: Vec<String> = if digits_only && !trimmed.starts_with('0') {
        vec![format!("+{trimmed}"), trimmed.to_owned()]
    } else {
        vec![trimmed.to_owned()]
    };
    candidates.into_iter().find_map(|c| {
        let n = phonenumber::parse(Some(Id::NL), &c).ok()?;
        phonenumber::is_valid(&n).then(|| n.format().mode(Mode::E164).to_string())
    })
}

/// The address a contact is known by: E.164 when the sender is a phone number, else the
/// sender as given (a short code or an alphanumeric sender id).
pub fn normalise_sender(raw: &str) -> String {
    to_e164(raw).unwrap_or_else(|| raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_and_international_forms_become_e164() {
        for raw in [
            "0612345678",
            "+31612345678",
            "31612345678",
            "+31 6 1234 5678",
            "0031612345678",
        ] {
            assert_eq!(to_e164(raw).as_deref(), Some("+31612345678"), "{raw}");
        }
        assert_eq!(to_e164("+32470123456").as_deref(), Some("+32470123456"));
        assert_eq!(to_e164("14155238886").as_deref(), Some("+14155238886"));
        assert_eq!(to_e164("Gemeente"), None);
        assert_eq!(normalise_sender(" Gemeente "), "Gemeente");
    }
}
