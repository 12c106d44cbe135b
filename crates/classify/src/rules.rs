//! Rules, where a rule is clearer than a model: a BSN is a BSN by its check digit, and
//! "op grond van de Woo" is a Woo request whatever the rest of the message says.

use crate::features::Featurizer;
use crate::labels::SpecialCategory;

/// Rule names as stored with a classification.
pub const RULE_BSN: &str = "bsn_11_proef";
pub const RULE_WOO_LEGAL_BASIS: &str = "woo_wettelijke_grondslag";
pub const RULE_WOO_HEREBY: &str = "woo_hierbij_verzoek";
pub const RULE_WOO_OPENING: &str = "woo_verzoek_aanhef";
pub const RULE_DISCLOSURE: &str = "verzoek_om_openbaarmaking";
pub const RULE_OUTBOUND: &str = "uitgaand_geen_verzoek";
pub const RULE_SPECIAL_LEXICON: &str = "bijzonder_persoonsgegeven_lexicon";
pub const RULE_NOT_PUBLIC_TASK: &str = "geen_publieke_taak_onderwerp_overig";

/// The 11-proef of the BSN: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is divisible by 11 (and the
/// number is not all zeros).
pub fn passes_11_proef(digits: &[u8; 9]) -> bool {
    let sum: i32 = digits[..8]
        .iter()
        .zip((2..=9).rev())
        .map(|(d, w)| i32::from(*d) * w)
        .sum::<i32>()
        - i32::from(digits[8]);
    sum % 11 == 0 && digits.iter().any(|d| *d != 0)
}

/// Words that say a nearby number is a citizen service number.
const BSN_CONTEXT: [&str; 5] = [
    "bsn",
    "burgerservicenummer",
    "sofinummer",
    "sofi-nummer",
    "citizen service number",
];
/// How far (bytes) before or after the number a context word may stand.
const BSN_WINDOW: usize = 60;

/// Finds a BSN: nine digits (written `123456782`, `1234.56.782` or `123 456 782`) that
/// pass the 11-proef with a context word nearby. Nine digits alone are too common
/// (order numbers, payment references: about one in eleven passes by chance).
pub fn find_bsn(text: &str) -> Option<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let lower = text.to_lowercase();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        if let Some((digits, end)) = nine_digits(b, i) {
            let near = |w: &str| {
                let from = floor_boundary(&lower, i.saturating_sub(BSN_WINDOW));
                let to = floor_boundary(&lower, (end + BSN_WINDOW).min(lower.len()));
                lower.get(from..to).is_some_and(|s| s.contains(w))
            };
            if passes_11_proef(&digits) && BSN_CONTEXT.iter().any(|w| near(w)) {
                return Some(i..end);
            }
        }
        i += 1;
    }
    None
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Nine digits from `start` in one of the written forms, not followed by another digit.
fn nine_digits(b: &[u8], start: usize) -> Option<([u8; 9], usize)> {
    for groups in [&[9usize][..], &[4, 2, 3], &[3, 3, 3]] {
        let mut out = [0u8; 9];
        let (mut pos, mut n) = (start, 0);
        let mut ok = true;
        for (gi, g) in groups.iter().enumerate() {
            if gi > 0 {
                match b.get(pos) {
                    Some(b'.') | Some(b' ') if groups.len() > 1 => pos += 1,
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            for _ in 0..*g {
                match b.get(pos) {
                    Some(d) if d.is_ascii_digit() => {
                        out[n] = d - b'0';
                        n += 1;
                        pos += 1;
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if !ok {
                break;
            }
        }
        if ok && n == 9 && !b.get(pos).is_some_and(|d| d.is_ascii_digit()) {
            return Some((out, pos));
        }
    }
    None
}

fn is_woo_name(words: &[String], i: usize) -> bool {
    let w = |j: usize| words.get(j).map(String::as_str);
    matches!(w(i), Some("woo" | "wob"))
        || (w(i) == Some("wet")
            && (matches!((w(i + 1), w(i + 2)), (Some("open"), Some("overheid")))
                || matches!(
                    (w(i + 1), w(i + 2), w(i + 3)),
                    (Some("openbaarheid"), Some("van"), Some("bestuur"))
                )))
        || (w(i) == Some("open") && w(i + 1) == Some("government"))
}

fn woo_name_within(words: &[String], from: usize, span: usize) -> bool {
    (from..(from + span).min(words.len())).any(|j| is_woo_name(words, j))
}

fn seq_at(words: &[String], i: usize, seq: &[&str]) -> bool {
    seq.iter()
        .enumerate()
        .all(|(k, s)| words.get(i + k).map(String::as_str) == Some(*s))
}

/// An explicit Woo request by its wording, on the unstemmed words of a message. Naming the
/// Woo is not enough ("hoe dien ik een Woo-verzoek in?", "mijn Woo-verzoek van maart"):
/// the message must invoke it — a legal basis ("op grond van", "krachtens", "under" …
/// the Woo/Wob), "hierbij"/"bij deze" before it, a message that opens with
/// "Woo-verzoek", or a request for "openbaarmaking".
pub fn woo_request_phrase(words: &[String]) -> Option<&'static str> {
    const BASIS: [&[&str]; 8] = [
        &["op", "grond", "van"],
        &["in", "het", "kader", "van"],
        &["krachtens"],
        &["conform"],
        &["ingevolge"],
        &["beroep", "op"],
        &["under"],
        &["pursuant", "to"],
    ];
    for i in 0..words.len() {
        for b in BASIS {
            if seq_at(words, i, b) && woo_name_within(words, i + b.len(), 6) {
                return Some(RULE_WOO_LEGAL_BASIS);
            }
        }
        let hereby = seq_at(words, i, &["hierbij"]) || seq_at(words, i, &["bij", "deze"]);
        if hereby && woo_name_within(words, i + 1, 6) {
            return Some(RULE_WOO_HEREBY);
        }
        if words.get(i).map(String::as_str) == Some("openbaarmaking")
            && (i.saturating_sub(5)..i).any(|j| {
                matches!(
                    words[j].as_str(),
                    "verzoek" | "verzoeke" | "vraag" | "verzoeken"
                )
            })
        {
            return Some(RULE_DISCLOSURE);
        }
    }
    if is_woo_name(words, 0) && words.get(1).map(String::as_str) == Some("verzoek") {
        return Some(RULE_WOO_OPENING);
    }
    None
}

/// Which special categories a message's stems name. The model decides *whether* a
/// message carries special personal data; this lexicon says *which*, for the FOI officer.
pub struct Lexicon {
    entries: Vec<(String, SpecialCategory)>,
}

const LEXICON: &[(SpecialCategory, &str)] = &[
    (
        SpecialCategory::Gezondheid,
        "ziekte ziek diagnose depressie burn-out psychose ggz psychiater psycholoog kanker chemo \
         dementie alzheimer parkinson autisme adhd angststoornis herseninfarct diabetes copd ms \
         reuma hartaandoening hernia rolstoel slechtziend insulinenaalden incontinentiemateriaal \
         stomazakjes chronisch behandeling opname operatie sclerosis depression cancer",
    ),
    (
        SpecialCategory::Religie,
        "moslim moskee kerk kerkelijke joods synagoge chuppa katholiek islamitisch ramadan iftar \
         hoofddoek geloof",
    ),
    (
        SpecialCategory::Etniciteit,
        "marokkaans marokkaanse turkse surinaamse syrische afkomst migratieachtergrond huidskleur",
    ),
    (
        SpecialCategory::SeksueelLeven,
        "homostel homo lesbisch transgender seksuele",
    ),
    (
        SpecialCategory::Strafrechtelijk,
        "strafblad veroordeling veroordeeld gevangenis detentie celstraf taakstraf reclassering \
         voorwaardelijk",
    ),
    (SpecialCategory::Politiek, "oppositiepartij partij"),
    (SpecialCategory::Vakbond, "vakbond vakbondsconsulent fnv"),
];

impl Lexicon {
    pub fn new(fz: &mut Featurizer) -> Lexicon {
        let mut entries = Vec::new();
        for (cat, words) in LEXICON {
            for w in words.split_whitespace() {
                for s in fz.stems(w) {
                    entries.push((s, *cat));
                }
            }
        }
        entries.sort();
        entries.dedup();
        Lexicon { entries }
    }

    pub fn categories(&self, stems: &[String]) -> Vec<SpecialCategory> {
        let mut out: Vec<SpecialCategory> = stems
            .iter()
            .flat_map(|s| {
                let from = self.entries.partition_point(|(e, _)| e < s);
                self.entries[from..]
                    .iter()
                    .take_while(move |(e, _)| e == s)
                    .map(|(_, c)| *c)
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let mut a = loket_search::analysis::exact();
        loket_search::analysis::terms(&mut a, s)
    }

    #[test]
    fn eleven_proef_accepts_valid_and_rejects_altered_numbers() {
        // 111222333: 9+8+7+12+10+8+9+6 = 69, minus 3 = 66 = 6·11.
        assert!(passes_11_proef(&[1, 1, 1, 2, 2, 2, 3, 3, 3]));
        assert!(!passes_11_proef(&[1, 1, 1, 2, 2, 2, 3, 3, 4]));
        assert!(!passes_11_proef(&[0; 9]));
    }

    #[test]
    fn bsn_needs_the_check_digit_and_a_context_word() {
        assert!(find_bsn("Mijn BSN is 111222333.").is_some());
        assert!(find_bsn("burgerservicenummer: 1112.22.333").is_some());
        assert!(find_bsn("bsn 111 222 333").is_some());
        assert!(
            find_bsn("Mijn BSN is 111222334.").is_none(),
            "fails 11-proef"
        );
        assert!(find_bsn("Ordernummer 111222333").is_none(), "no context");
        assert!(find_bsn("BSN 1112223330").is_none(), "ten digits");
    }

    #[test]
    fn invoking_the_woo_fires_naming_it_does_not() {
        let fire = |s: &str| woo_request_phrase(&words(s));
        assert_eq!(
            fire("Graag ontvang ik op grond van de Woo alle stukken"),
            Some(RULE_WOO_LEGAL_BASIS)
        );
        assert_eq!(
            fire("op grond van artikel 4.1 van de Wet open overheid"),
            Some(RULE_WOO_LEGAL_BASIS)
        );
        assert_eq!(
            fire("Hierbij doe ik een Wob-verzoek"),
            Some(RULE_WOO_HEREBY)
        );
        assert_eq!(fire("Woo-verzoek: alle mails"), Some(RULE_WOO_OPENING));
        assert_eq!(
            fire("Ik verzoek u om openbaarmaking van het advies"),
            Some(RULE_DISCLOSURE)
        );
        assert_eq!(fire("Hoe dien ik een Woo-verzoek in?"), None);
        assert_eq!(fire("Wat is de stand van mijn Woo-verzoek?"), None);
        assert_eq!(fire("op grond van de AVG wil ik inzage"), None);
    }

    #[test]
    fn lexicon_names_categories_by_stem() {
        let mut fz = Featurizer::default();
        let lex = Lexicon::new(&mut fz);
        let stems = fz.stems("Door mijn depressie en mijn strafblad");
        assert_eq!(
            lex.categories(&stems),
            vec![
                SpecialCategory::Gezondheid,
                SpecialCategory::Strafrechtelijk
            ]
        );
        assert!(lex.categories(&fz.stems("de container is vol")).is_empty());
    }
}
