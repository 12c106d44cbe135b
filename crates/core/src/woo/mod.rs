//! Woo requests (Wet open overheid) as cases: the decision deadline by the Woo and the
//! Algemene termijnenwet, the case's status machine, and document judgements.
//! Pure rules; the store keeps the cases, the server shows them.

pub mod case;
pub mod deadline;
pub mod holidays;

pub use case::{
    Assessment, AssessmentError, CaseStatus, GROUNDS, Judgement, Outcome, case_number, is_ground,
    older_than_five_years,
};
pub use deadline::{Deadline, DeadlineError, Extension, Suspension, SuspensionKind};

use chrono::NaiveDate;

/// The day a request was received, by the clock of the Netherlands (Europe/Amsterdam):
/// a chat message at 23:30 UTC on 31 March arrives on 1 April.
pub fn receipt_date(at: crate::Timestamp) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::Amsterdam).date_naive()
}
