//! Tone check for replies. A reply becomes part of the public record and may
//! be disclosed under the Woo, so before sending the inbox flags informal or opinionated
//! wording. The clerk may send anyway: these are warnings, never a block.
//!
//! Rules (each finding names its rule and the matched text):
//!
//! | rule | what it flags |
//! |---|---|
//! | `opinion` | personal opinion: "ik vind", "volgens mij", "ik denk", "persoonlijk", "mijns inziens", "I think", "in my opinion", "I feel", "personally", "I believe" |
//! | `informal` | chat register: "hoi", "doei", "haha", "lol", "ff", "btw", "hey", "cheers", "gonna", "wanna", "omg" |
//! | `swearing` | swear words (Dutch and English), matched as whole words: "kut", "shit", "godverdomme", "verdomme", "klote", "tering", "kanker", "fuck", "damn", "crap", "bullshit", "wtf" |
//! | `emoji` | any emoji or pictographic symbol |
//! | `all_caps` | a word of 4 or more letters entirely in capitals (common abbreviations such as BSN, WOO, KCC, AVG, IBAN, DigiD are allowed) |
//! | `exclamation` | two or more `!` in a row, or `?!` / `!?` |
//!
//! Matching is case-insensitive on whole words (phrases match on word boundaries).

use serde::{Deserialize, Serialize};

/// One finding of the tone check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToneFinding {
    pub rule: ToneRule,
    /// The text that triggered it, as written.
    pub matched: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToneRule {
    Opinion,
    Informal,
    Swearing,
    Emoji,
    AllCaps,
    Exclamation,
}

impl ToneRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ToneRule::Opinion => "opinion",
            ToneRule::Informal => "informal",
            ToneRule::Swearing => "swearing",
            ToneRule::Emoji => "emoji",
            ToneRule::AllCaps => "all_caps",
            ToneRule::Exclamation => "exclamation",
        }
    }
}

/// Opinion phrases (Dutch, then English).
pub const OPINION: &[&str] = &[
    "ik vind",
    "vind ik",
    "volgens mij",
    "ik denk",
    "denk ik",
    "persoonlijk",
    "mijns inziens",
    "naar mijn mening",
    "ik geloof",
    "i think",
    "in my opinion",
    "i feel",
    "personally",
    "i believe",
];

/// Informal chat register (Dutch, then English).
pub const INFORMAL: &[&str] = &[
    "hoi", "doei", "haha", "hihi", "lol", "ff", "btw", "joh", "hey", "cheers", "gonna", "wanna",
    "omg", "lmao",
];

/// Swear words (Dutch, then English).
pub const SWEARING: &[&str] = &[
    "kut",
    "shit",
    "godverdomme",
    "verdomme",
    "klote",
    "tering",
    "kanker",
    "tyfus",
    "fuck",
    "fucking",
    "damn",
    "crap",
    "bullshit",
    "wtf",
];

/// Capitalised abbreviations that are not shouting.
pub const ALLOWED_CAPS: &[&str] = &[
    "BSN", "WOO", "WOB", "KCC", "AVG", "GDPR", "IBAN", "DIGID", "WMO", "UWV", "SVB", "PDF", "BRP",
    "KVK", "RDW", "CJIB", "GGD", "BTW", "HTML", "URL",
];

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF   // mahjong … symbols and pictographs extended-A
        | 0x2600..=0x27BF   // misc symbols, dingbats
        | 0x2B50 | 0x2B55 | 0x203C | 0x2049)
}

/// Lower-case words of the text with their original spelling.
fn words(text: &str) -> Vec<(String, &str)> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| (w.to_lowercase(), w))
        .collect()
}

/// Checks a reply's text. Findings are in rule order, each match once.
pub fn check(text: &str) -> Vec<ToneFinding> {
    let mut out: Vec<ToneFinding> = Vec::new();
    let mut push = |rule: ToneRule, matched: String| {
        if !out.iter().any(|f| f.rule == rule && f.matched == matched) {
            out.push(ToneFinding { rule, matched });
        }
    };
    let ws = words(text);
    let lower: Vec<&str> = ws.iter().map(|(l, _)| l.as_str()).collect();
    // Phrases: compare word sequences, so "vindingrijk" never matches "ik vind".
    for phrase in OPINION {
        let p: Vec<&str> = phrase.split(' ').collect();
        if lower.windows(p.len()).any(|w| w == p.as_slice()) {
            push(ToneRule::Opinion, (*phrase).to_owned());
        }
    }
    for (l, orig) in &ws {
        if INFORMAL.contains(&l.as_str()) {
            push(ToneRule::Informal, (*orig).to_owned());
        }
        if SWEARING.contains(&l.as_str()) {
            push(ToneRule::Swearing, (*orig).to_owned());
        }
        let letters = orig.chars().filter(|c| c.is_alphabetic()).count();
        if letters >= 4
            && orig.chars().all(|c| !c.is_lowercase())
            && orig.chars().any(char::is_uppercase)
            && !ALLOWED_CAPS.contains(&orig.to_uppercase().as_str())
        {
            push(ToneRule::AllCaps, (*orig).to_owned());
        }
    }
    for c in text.chars().filter(|c| is_emoji(*c)) {
        push(ToneRule::Emoji, c.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '!' || chars[i] == '?' {
            let start = i;
            while i < chars.len() && (chars[i] == '!' || chars[i] == '?') {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            let bangs = run.chars().filter(|c| *c == '!').count();
            if bangs >= 2 || (bangs >= 1 && run.len() >= 2) {
                push(ToneRule::Exclamation, run);
            }
        } else {
            i += 1;
        }
    }
    out.sort_by_key(|f| f.rule as u8);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(t: &str) -> Vec<ToneRule> {
        check(t).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn neutral_replies_pass() {
        assert!(check("Geachte heer Jansen, uw aanvraag is ontvangen. Met vriendelijke groet, Gemeente Demodorp").is_empty());
        assert!(check("Uw BSN en IBAN zijn nodig voor de WMO-aanvraag.").is_empty());
        assert!(check("Dat is een vindingrijk voorstel.").is_empty());
        assert!(check("Is dit correct?").is_empty());
    }

    #[test]
    fn opinion_phrases_dutch_and_english() {
        assert_eq!(
            rules("Ik vind dit geen goed idee."),
            vec![ToneRule::Opinion]
        );
        assert_eq!(
            rules("Volgens mij klopt dat niet."),
            vec![ToneRule::Opinion]
        );
        assert_eq!(rules("I think you are wrong."), vec![ToneRule::Opinion]);
    }

    #[test]
    fn swearing_emoji_caps_exclamations() {
        assert_eq!(rules("Wat een kutregeling"), Vec::<ToneRule>::new());
        assert_eq!(rules("Dit is echt shit."), vec![ToneRule::Swearing]);
        assert_eq!(rules("Prima 👍"), vec![ToneRule::Emoji]);
        assert_eq!(rules("Dit is NIET de bedoeling"), vec![ToneRule::AllCaps]);
        assert_eq!(rules("Stop daarmee!!"), vec![ToneRule::Exclamation]);
        assert_eq!(rules("Echt?!"), vec![ToneRule::Exclamation]);
        assert_eq!(rules("Dank u!"), Vec::<ToneRule>::new());
        assert_eq!(
            rules("hoi, haha"),
            vec![ToneRule::Informal, ToneRule::Informal]
        );
    }

    #[test]
    fn findings_carry_the_match() {
        let f = check("WAAROM duurt dit zo lang!!!");
        assert!(f.contains(&ToneFinding {
            rule: ToneRule::AllCaps,
            matched: "WAAROM".into()
        }));
        assert!(f.contains(&ToneFinding {
            rule: ToneRule::Exclamation,
            matched: "!!!".into()
        }));
    }
}
