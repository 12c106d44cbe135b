//! GSM 03.38 (GSM-7) or UCS-2, and how many SMS segments a text costs. Pure: the inbox
//! shows it before a clerk sends, and the budget counts the same figure.
//!
//! A single message holds 160 GSM-7 septets or 70 UCS-2 code units; a concatenated one
//! loses 7 septets (6 bytes of user-data header) per segment: 153 or 67. A character of
//! the GSM-7 extension table costs two septets (escape + code) and is never split over
//! two segments, nor is a UTF-16 surrogate pair.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// Units in a message of one segment.
    pub fn single_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    /// Units per segment of a concatenated message.
    pub fn multi_capacity(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }
}

/// What a text costs as SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub segments: usize,
    /// Capacity of each segment at this length (160/153 or 70/67).
    pub per_segment: usize,
}

/// The GSM 03.38 default alphabet (without the escape code 0x1B).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: each costs an escape septet too.
const GSM7_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

/// Septets `c` costs in GSM-7, or `None` when GSM-7 cannot carry it.
fn gsm7_cost(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// True when every character of `text` has a GSM-7 code.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_cost(c).is_some())
}

/// Packs characters of the given unit costs into segments of `capacity` without
/// splitting one character.
fn pack(costs: impl Iterator<Item = usize>, capacity: usize) -> usize {
    let mut segments = 1;
    let mut used = 0;
    for cost in costs {
        if used + cost > capacity {
            segments += 1;
            used = 0;
        }
        used += cost;
    }
    segments
}

/// The encoding and segment count of `text`.
pub fn segments(text: &str) -> Segments {
    let (encoding, costs): (Encoding, Vec<usize>) = if is_gsm7(text) {
        (
            Encoding::Gsm7,
            // is_gsm7 held for every character, so each has a cost.
            text.chars().map(|c| gsm7_cost(c).unwrap_or(1)).collect(),
        )
    } else {
        (Encoding::Ucs2, text.chars().map(char::len_utf16).collect())
    };
    let units: usize = costs.iter().sum();
    if units <= encoding.single_capacity() {
        return Segments {
            encoding,
            units,
            segments: 1,
            per_segment: encoding.single_capacity(),
        };
    }
    Segments {
        encoding,
        units,
        segments: pack(costs.into_iter(), encoding.multi_capacity()),
        per_segment: encoding.multi_capacity(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_is_160_in_one_segment_and_161_in_two() {
        let s = segments(&"a".repeat(160));
        assert_eq!((s.encoding, s.units, s.segments), (Encoding::Gsm7, 160, 1));
        let s = segments(&"a".repeat(161));
        assert_eq!(
            (s.encoding, s.segments, s.per_segment),
            (Encoding::Gsm7, 2, 153)
        );
        assert_eq!(segments(&"a".repeat(306)).segments, 2);
        assert_eq!(segments(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn one_emoji_makes_the_text_ucs2_at_70_then_67() {
        let s = segments("Hallo 👋");
        assert_eq!((s.encoding, s.units, s.segments), (Encoding::Ucs2, 8, 1));
        // 68 letters + an emoji (2 code units) = 70: still one segment.
        let s = segments(&format!("{}👋", "a".repeat(68)));
        assert_eq!((s.units, s.segments, s.per_segment), (70, 1, 70));
        let s = segments(&format!("{}👋", "a".repeat(69)));
        assert_eq!((s.units, s.segments, s.per_segment), (71, 2, 67));
        // 66 letters then an emoji: the pair does not fit in 67 and moves on whole.
        let s = segments(&format!("{}👋{}", "a".repeat(66), "a".repeat(10)));
        assert_eq!(s.segments, 2);
        assert_eq!(segments(&"é".repeat(135)).encoding, Encoding::Gsm7);
    }

    #[test]
    fn belgie_is_ucs2_and_the_extension_table_costs_two() {
        assert_eq!(segments("België").encoding, Encoding::Ucs2);
        assert_eq!(segments("Straße 5, Zürich").encoding, Encoding::Gsm7);
        let s = segments("€10 [x]");
        assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 10));
        // 159 letters + '€' = 161 septets: two segments.
        assert_eq!(segments(&format!("{}€", "a".repeat(159))).segments, 2);
        // 152 letters + '€': the escape pair does not straddle the 153 boundary.
        let s = segments(&format!("{}€{}", "a".repeat(152), "a".repeat(10)));
        assert_eq!(s.segments, 2);
        assert_eq!(s.units, 164);
    }
}
