//! The rules of a Woo case (a request under the Wet open overheid): its status machine,
//! the outcome of the decision, and the judgement of each document.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Where a case stands. `ontvangen → in_behandeling → besluit_genomen → afgerond`, with
/// `opgeschort` (the clock stands still) and `ingetrokken` (withdrawn by the requester).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Ontvangen,
    InBehandeling,
    Opgeschort,
    BesluitGenomen,
    Afgerond,
    Ingetrokken,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::Ontvangen,
        CaseStatus::InBehandeling,
        CaseStatus::Opgeschort,
        CaseStatus::BesluitGenomen,
        CaseStatus::Afgerond,
        CaseStatus::Ingetrokken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Ontvangen => "ontvangen",
            CaseStatus::InBehandeling => "in_behandeling",
            CaseStatus::Opgeschort => "opgeschort",
            CaseStatus::BesluitGenomen => "besluit_genomen",
            CaseStatus::Afgerond => "afgerond",
            CaseStatus::Ingetrokken => "ingetrokken",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// An open case holds its conversations (legal hold) and runs its clock. A decided
    /// case stays open until `afgerond`: objections and a court may still need the
    /// documents exactly as judged.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Afgerond | CaseStatus::Ingetrokken)
    }

    /// Whether `self → to` is a step of the machine. Suspension is not set here: it
    /// follows from recording (and ending) a suspension.
    pub fn may_become(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, to),
            (Ontvangen, InBehandeling)
                | (Ontvangen | InBehandeling | Opgeschort, Ingetrokken)
                | (InBehandeling, BesluitGenomen)
                | (BesluitGenomen, Afgerond)
        )
    }
}

/// The outcome of the decision on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Openbaarmaking,
    GedeeltelijkeOpenbaarmaking,
    GeenOpenbaarmaking,
    ReedsOpenbaar,
    GeenDocumentenAangetroffen,
}

impl Outcome {
    pub const ALL: [Outcome; 5] = [
        Outcome::Openbaarmaking,
        Outcome::GedeeltelijkeOpenbaarmaking,
        Outcome::GeenOpenbaarmaking,
        Outcome::ReedsOpenbaar,
        Outcome::GeenDocumentenAangetroffen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Openbaarmaking => "openbaarmaking",
            Outcome::GedeeltelijkeOpenbaarmaking => "gedeeltelijke_openbaarmaking",
            Outcome::GeenOpenbaarmaking => "geen_openbaarmaking",
            Outcome::ReedsOpenbaar => "reeds_openbaar",
            Outcome::GeenDocumentenAangetroffen => "geen_documenten_aangetroffen",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn dutch_label(self) -> &'static str {
        match self {
            Outcome::Openbaarmaking => "Openbaarmaking",
            Outcome::GedeeltelijkeOpenbaarmaking => "Gedeeltelijke openbaarmaking",
            Outcome::GeenOpenbaarmaking => "Geen openbaarmaking",
            Outcome::ReedsOpenbaar => "Reeds openbaar",
            Outcome::GeenDocumentenAangetroffen => "Geen documenten aangetroffen",
        }
    }
}

/// The judgement of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    Openbaar,
    DeelsOpenbaar,
    NietOpenbaar,
    ReedsOpenbaar,
}

impl Judgement {
    pub const ALL: [Judgement; 4] = [
        Judgement::Openbaar,
        Judgement::DeelsOpenbaar,
        Judgement::NietOpenbaar,
        Judgement::ReedsOpenbaar,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Openbaar => "openbaar",
            Judgement::DeelsOpenbaar => "deels_openbaar",
            Judgement::NietOpenbaar => "niet_openbaar",
            Judgement::ReedsOpenbaar => "reeds_openbaar",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|j| j.as_str() == s)
    }

    /// The inventory's words (`Beoordeling`).
    pub fn dutch_label(self) -> &'static str {
        match self {
            Judgement::Openbaar => "Openbaar",
            Judgement::DeelsOpenbaar => "Deels openbaar",
            Judgement::NietOpenbaar => "Niet openbaar",
            Judgement::ReedsOpenbaar => "Reeds openbaar",
        }
    }

    /// Withholds (part of) the document, so it needs grounds and a motivation.
    pub fn is_refusal(self) -> bool {
        matches!(self, Judgement::DeelsOpenbaar | Judgement::NietOpenbaar)
    }
}

/// The refusal grounds of Woo art. 5.1 and 5.2, as inventories write them.
pub const GROUNDS: [(&str, &str); 17] = [
    ("5.1.1a", "eenheid van de Kroon"),
    ("5.1.1b", "veiligheid van de Staat"),
    (
        "5.1.1c",
        "vertrouwelijk verstrekte bedrijfs- en fabricagegegevens",
    ),
    ("5.1.1d", "bijzondere persoonsgegevens"),
    ("5.1.1e", "identificatienummers"),
    ("5.1.2a", "internationale betrekkingen"),
    ("5.1.2b", "economische of financiële belangen"),
    ("5.1.2c", "opsporing en vervolging van strafbare feiten"),
    ("5.1.2d", "inspectie, controle en toezicht"),
    ("5.1.2e", "eerbiediging van de persoonlijke levenssfeer"),
    (
        "5.1.2f",
        "concurrentiegevoelige bedrijfs- en fabricagegegevens",
    ),
    ("5.1.2g", "bescherming van het milieu"),
    (
        "5.1.2h",
        "beveiliging van personen of bedrijven en voorkomen van sabotage",
    ),
    (
        "5.1.2i",
        "goed functioneren van de Staat of bestuursorganen",
    ),
    ("5.1.5", "onevenredige benadeling"),
    ("5.2", "persoonlijke beleidsopvattingen"),
    ("dubbel", "reeds beoordeeld als ander document"),
];

/// Whether `code` is one of `GROUNDS`.
pub fn is_ground(code: &str) -> bool {
    GROUNDS.iter().any(|(c, _)| *c == code)
}

/// Woo art. 5.3: refusing information older than five years on a relative ground
/// (5.1 lid 2, 5.1 lid 5) or 5.2 needs reasons why the weighing still holds.
pub fn needs_art_5_3_reasons(code: &str) -> bool {
    code.starts_with("5.1.2") || code == "5.1.5" || code == "5.2"
}

/// Whether a document of `document_date` is older than five years when the request
/// was received (Woo art. 5.3 counts from the creation of the information).
pub fn older_than_five_years(document_date: NaiveDate, received_on: NaiveDate) -> bool {
    let five_years_before = NaiveDate::from_ymd_opt(
        received_on.year() - 5,
        received_on.month(),
        received_on.day(),
    )
    // 29 February five years earlier does not exist: take 28 February.
    .or_else(|| NaiveDate::from_ymd_opt(received_on.year() - 5, received_on.month(), 28))
    .unwrap_or(NaiveDate::MIN);
    document_date < five_years_before
}

/// A judgement as an officer submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub judgement: Judgement,
    pub grounds: Vec<String>,
    pub motivation: String,
    /// The address where a `reeds openbaar` document is published.
    pub link: Option<String>,
    /// Woo art. 5.3 reasons for an old document refused on a relative ground.
    pub art_5_3_reasons: Option<String>,
}

/// What is wrong with an assessment; `field` names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessmentError {
    #[error("unknown ground `{0}`")]
    UnknownGround(String),
    #[error("a refusal needs at least one ground")]
    RefusalWithoutGround,
    #[error("a refusal needs a motivation; naming the ground is not enough")]
    RefusalWithoutMotivation,
    #[error("`reeds openbaar` needs the http(s) link where the document is published")]
    MissingLink,
    #[error("a document judged `openbaar` has no refusal grounds")]
    GroundsOnPublic,
    #[error("the document is older than five years: art. 5.3 needs extra reasons for {0}")]
    MissingArt53Reasons(String),
}

impl AssessmentError {
    pub fn field(&self) -> &'static str {
        match self {
            AssessmentError::UnknownGround(_)
            | AssessmentError::RefusalWithoutGround
            | AssessmentError::GroundsOnPublic => "grounds",
            AssessmentError::RefusalWithoutMotivation => "motivation",
            AssessmentError::MissingLink => "link",
            AssessmentError::MissingArt53Reasons(_) => "art_5_3_reasons",
        }
    }
}

impl Assessment {
    /// Checks the assessment of a document (`older` = older than five years), and
    /// returns it normalised (grounds trimmed, sorted, once each).
    pub fn validated(mut self, older: bool) -> Result<Assessment, AssessmentError> {
        let mut grounds: Vec<String> = self.grounds.iter().map(|g| g.trim().to_owned()).collect();
        grounds.retain(|g| !g.is_empty());
        grounds.sort();
        grounds.dedup();
        if let Some(bad) = grounds.iter().find(|g| !is_ground(g)) {
            return Err(AssessmentError::UnknownGround(bad.clone()));
        }
        self.grounds = grounds;
        self.motivation = self.motivation.trim().to_owned();
        if self.judgement.is_refusal() {
            if self.grounds.is_empty() {
                return Err(AssessmentError::RefusalWithoutGround);
            }
            if self.motivation.is_empty() {
                return Err(AssessmentError::RefusalWithoutMotivation);
            }
            let relative = self.grounds.iter().find(|g| needs_art_5_3_reasons(g));
            let reasons = self.art_5_3_reasons.as_deref().map(str::trim);
            if let (true, Some(code)) = (older, relative)
                && reasons.is_none_or(str::is_empty)
            {
                return Err(AssessmentError::MissingArt53Reasons(code.clone()));
            }
        } else if self.judgement == Judgement::Openbaar && !self.grounds.is_empty() {
            return Err(AssessmentError::GroundsOnPublic);
        }
        if self.judgement == Judgement::ReedsOpenbaar {
            let link = self.link.as_deref().map(str::trim).unwrap_or_default();
            if !(link.starts_with("https://") || link.starts_with("http://")) || link.len() < 12 {
                return Err(AssessmentError::MissingLink);
            }
            self.link = Some(link.to_owned());
        } else {
            self.link = None;
        }
        Ok(self)
    }
}

/// The tenant-unique case number of the `n`-th case of `year`: `WOO-2026-0001`.
pub fn case_number(year: i32, n: u32) -> String {
    format!("WOO-{year}-{n:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(j: Judgement, grounds: &[&str], motivation: &str) -> Assessment {
        Assessment {
            judgement: j,
            grounds: grounds.iter().map(|g| g.to_string()).collect(),
            motivation: motivation.into(),
            link: None,
            art_5_3_reasons: None,
        }
    }

    #[test]
    fn status_machine_allows_only_its_steps() {
        use CaseStatus::*;
        assert!(Ontvangen.may_become(InBehandeling));
        assert!(InBehandeling.may_become(BesluitGenomen));
        assert!(BesluitGenomen.may_become(Afgerond));
        assert!(Opgeschort.may_become(Ingetrokken));
        assert!(!Ontvangen.may_become(Afgerond));
        assert!(!Afgerond.may_become(InBehandeling));
        assert!(!Ingetrokken.may_become(InBehandeling));
        assert!(!BesluitGenomen.may_become(Ingetrokken));
        assert!(Ontvangen.is_open() && BesluitGenomen.is_open());
        assert!(!Afgerond.is_open() && !Ingetrokken.is_open());
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn refusal_needs_known_grounds_and_a_motivation() {
        let e = a(Judgement::NietOpenbaar, &["5.1.9"], "x").validated(false);
        assert_eq!(e, Err(AssessmentError::UnknownGround("5.1.9".into())));
        let e = a(Judgement::DeelsOpenbaar, &["5.1.2e"], "  ").validated(false);
        assert_eq!(e.unwrap_err().field(), "motivation");
        let e = a(Judgement::NietOpenbaar, &[], "reden").validated(false);
        assert_eq!(e, Err(AssessmentError::RefusalWithoutGround));
        let ok = a(
            Judgement::DeelsOpenbaar,
            &["5.1.2e", "5.1.1e", "5.1.2e"],
            " namen ",
        )
        .validated(false)
        .unwrap();
        assert_eq!(ok.grounds, vec!["5.1.1e", "5.1.2e"]);
        assert_eq!(ok.motivation, "namen");
        assert!(a(Judgement::Openbaar, &[], "").validated(false).is_ok());
        assert_eq!(
            a(Judgement::Openbaar, &["5.2"], "").validated(false),
            Err(AssessmentError::GroundsOnPublic)
        );
    }

    #[test]
    fn reeds_openbaar_needs_a_link() {
        let mut x = a(Judgement::ReedsOpenbaar, &[], "");
        assert_eq!(
            x.clone().validated(false),
            Err(AssessmentError::MissingLink)
        );
        x.link = Some("https://open.overheid.nl/doc/1".into());
        assert!(x.validated(false).is_ok());
    }

    #[test]
    fn old_documents_refused_on_relative_grounds_need_art_5_3_reasons() {
        let x = a(Judgement::NietOpenbaar, &["5.1.2e"], "privacy");
        assert_eq!(
            x.clone().validated(true).unwrap_err().field(),
            "art_5_3_reasons"
        );
        assert!(x.clone().validated(false).is_ok());
        // Absolute grounds need no weighing, so no art. 5.3 reasons either.
        assert!(
            a(Judgement::NietOpenbaar, &["5.1.1e"], "BSN")
                .validated(true)
                .is_ok()
        );
        let mut y = x;
        y.art_5_3_reasons = Some("nog steeds herleidbaar".into());
        assert!(y.validated(true).is_ok());
    }

    #[test]
    fn five_years_counts_back_from_receipt() {
        let received = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert!(older_than_five_years(
            NaiveDate::from_ymd_opt(2021, 3, 9).unwrap(),
            received
        ));
        assert!(!older_than_five_years(
            NaiveDate::from_ymd_opt(2021, 3, 10).unwrap(),
            received
        ));
        let leap = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap();
        assert!(!older_than_five_years(
            NaiveDate::from_ymd_opt(2023, 2, 28).unwrap(),
            leap
        ));
    }

    #[test]
    fn case_numbers_are_zero_padded() {
        assert_eq!(case_number(2026, 1), "WOO-2026-0001");
        assert_eq!(case_number(2026, 12345), "WOO-2026-12345");
    }
}
