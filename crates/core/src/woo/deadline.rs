//! The decision deadline of a Woo request.
//!
//! - Woo art. 4.4 lid 1 (BWBR0045754): "Het bestuursorgaan beslist op het verzoek om
//!   informatie zo spoedig mogelijk, doch uiterlijk binnen vier weken gerekend vanaf de dag
//!   na die waarop het verzoek is ontvangen." Day 1 is the day after receipt, so the
//!   term ends on receipt + 28 days.
//! - Woo art. 4.4 lid 2: "Het bestuursorgaan kan de beslissing voor ten hoogste twee weken
//!   verdagen […]. Van de verdaging wordt voor de afloop van de eerste termijn schriftelijk
//!   gemotiveerd mededeling gedaan aan de verzoeker." One extension, ≤ 14 days, with a
//!   reason, decided on or before the (Atw-adjusted) end of the first term.
//! - Woo art. 4.4 lid 3 (zienswijze of a third party, Awb 4:8): the term is suspended
//!   "gerekend vanaf de dag na die waarop het bestuursorgaan de verzoeker meedeelt dat
//!   toepassing is gegeven aan artikel 4:8 […], tot en met de dag waarop […] een
//!   zienswijze naar voren is gebracht of de daarvoor gestelde termijn ongebruikt is
//!   verstreken": from the day after the notice *through* the end day.
//! - Awb art. 4:15 lid 1 sub a (precisering asked, Woo art. 4.1 lid 5): suspended "met
//!   ingang van de dag na die waarop de aanvrager […] wordt uitgenodigd de aanvraag aan te
//!   vullen, tot de dag waarop de aanvraag is aangevuld of de daarvoor gestelde termijn
//!   ongebruikt is verstreken": from the day after the question *until* (not including)
//!   the answer day.
//! - Algemene termijnenwet art. 1 lid 1: a term ending on a Saturday, Sunday or general
//!   public holiday runs through the next day that is none of these (`holidays`).
//!
//! Decisions: the Atw is applied once, to the end of the whole term (first term plus
//! suspended days plus extension), because the Atw extends the term that *ends* on such a
//! day; the first term's own adjusted end only decides until when an extension may be
//! announced. Overlapping suspensions count each day once.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::holidays::{NonWorkingDay, next_working_day};

/// Length of the first term, Woo art. 4.4 lid 1.
pub const FIRST_TERM_DAYS: u64 = 28;
/// Longest extension, Woo art. 4.4 lid 2.
pub const MAX_EXTENSION_DAYS: u32 = 14;

/// Why the term was suspended; the two kinds count their end day differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionKind {
    /// Awb 4:15 lid 1 sub a: the requester was asked to make the request more precise.
    Precisering,
    /// Woo 4.4 lid 3: a third party was asked for its view (Awb 4:8).
    Zienswijze,
}

impl SuspensionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspensionKind::Precisering => "precisering",
            SuspensionKind::Zienswijze => "zienswijze",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "precisering" => Some(SuspensionKind::Precisering),
            "zienswijze" => Some(SuspensionKind::Zienswijze),
            _ => None,
        }
    }
}

/// A suspension as the officer records it: the day the requester (or third party) was
/// asked, and the day of the answer (or the day the time given for it ran out); `None`
/// while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub kind: SuspensionKind,
    pub asked_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

impl Suspension {
    /// The suspended days as a half-open range `[first, after_last)`: from the day after
    /// the question, through the end day (zienswijze) or up to it (precisering).
    fn suspended_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let first = self.asked_on.checked_add_days(Days::new(1))?;
        let ended_on = self.ended_on?;
        let after_last = match self.kind {
            SuspensionKind::Zienswijze => ended_on.checked_add_days(Days::new(1))?,
            SuspensionKind::Precisering => ended_on,
        };
        Some((first, after_last.max(first)))
    }
}

/// The one extension (verdaging).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub days: u32,
    pub decided_on: NaiveDate,
    pub reason: String,
}

/// What is wrong with an extension or suspension; `field` names the input at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("the term has already been extended once (Woo art. 4.4 lid 2)")]
    SecondExtension,
    #[error("an extension must be announced before the first term ends on {first_term_end}")]
    ExtensionAfterTerm { first_term_end: NaiveDate },
    #[error("an extension is at most {MAX_EXTENSION_DAYS} days and at least 1")]
    ExtensionLength,
    #[error("an extension needs a reason (Woo art. 4.4 lid 2: 'gemotiveerd')")]
    ExtensionReason,
    #[error("a suspension cannot end before it starts")]
    SuspensionEndsBeforeStart,
    #[error("a suspension cannot start before the request was received")]
    SuspensionBeforeReceipt,
    #[error("another suspension is still running")]
    SuspensionRunning,
}

impl DeadlineError {
    /// The input field a problem report names.
    pub fn field(&self) -> &'static str {
        match self {
            DeadlineError::SecondExtension | DeadlineError::ExtensionAfterTerm { .. } => {
                "extension"
            }
            DeadlineError::ExtensionLength => "days",
            DeadlineError::ExtensionReason => "reason",
            DeadlineError::SuspensionEndsBeforeStart => "ended_on",
            DeadlineError::SuspensionBeforeReceipt | DeadlineError::SuspensionRunning => "asked_on",
        }
    }
}

/// The computed deadline and every step of the arithmetic, for the case page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub received_on: NaiveDate,
    /// Receipt + 28 days, before the Atw.
    pub first_term_raw_end: NaiveDate,
    /// The first term's end after Atw art. 1: the last day an extension may be announced.
    pub first_term_end: NaiveDate,
    /// Days not counted because of finished suspensions (overlaps once).
    pub suspended_days: u64,
    pub extension_days: u32,
    /// First term + suspended days + extension, before the Atw.
    pub raw_end: NaiveDate,
    /// The deadline; `None` while a suspension runs (the clock stands still).
    pub due: Option<NaiveDate>,
    /// Days the Atw skipped from `raw_end` to `due`, with the reason.
    pub skipped: Vec<(NaiveDate, NonWorkingDay)>,
    /// The running suspension, if any.
    pub running_suspension: Option<SuspensionKind>,
}

fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// End of the first term after the Atw: the last day an extension may be announced.
pub fn first_term_end(received_on: NaiveDate) -> NaiveDate {
    next_working_day(add_days(received_on, FIRST_TERM_DAYS)).0
}

/// Computes the deadline of a request received on `received_on`.
pub fn compute(
    received_on: NaiveDate,
    extension: Option<&Extension>,
    suspensions: &[Suspension],
) -> Deadline {
    let first_term_raw_end = add_days(received_on, FIRST_TERM_DAYS);
    let mut ranges: Vec<(NaiveDate, NaiveDate)> = suspensions
        .iter()
        .filter_map(Suspension::suspended_range)
        .collect();
    ranges.sort();
    let mut suspended_days = 0u64;
    let mut covered_until: Option<NaiveDate> = None;
    for (first, after_last) in ranges {
        let first = covered_until.map_or(first, |c| first.max(c));
        if after_last > first {
            suspended_days += (after_last - first).num_days().unsigned_abs();
            covered_until = Some(after_last);
        }
    }
    let extension_days = extension.map_or(0, |e| e.days);
    let raw_end = add_days(
        first_term_raw_end,
        suspended_days + u64::from(extension_days),
    );
    let running_suspension = suspensions
        .iter()
        .find(|s| s.ended_on.is_none())
        .map(|s| s.kind);
    let (due, skipped) = if running_suspension.is_some() {
        (None, Vec::new())
    } else {
        let (due, skipped) = next_working_day(raw_end);
        (Some(due), skipped)
    };
    Deadline {
        received_on,
        first_term_raw_end,
        first_term_end: first_term_end(received_on),
        suspended_days,
        extension_days,
        raw_end,
        due,
        skipped,
        running_suspension,
    }
}

/// Checks a new extension against the law and the case's existing one.
pub fn check_extension(
    received_on: NaiveDate,
    existing: Option<&Extension>,
    new: &Extension,
) -> Result<(), DeadlineError> {
    if existing.is_some() {
        return Err(DeadlineError::SecondExtension);
    }
    if new.days == 0 || new.days > MAX_EXTENSION_DAYS {
        return Err(DeadlineError::ExtensionLength);
    }
    if new.reason.trim().is_empty() {
        return Err(DeadlineError::ExtensionReason);
    }
    let first_term_end = first_term_end(received_on);
    if new.decided_on > first_term_end {
        return Err(DeadlineError::ExtensionAfterTerm { first_term_end });
    }
    Ok(())
}

/// Checks a suspension (new, or an existing one being ended).
pub fn check_suspension(
    received_on: NaiveDate,
    others: &[Suspension],
    new: &Suspension,
) -> Result<(), DeadlineError> {
    if new.asked_on < received_on {
        return Err(DeadlineError::SuspensionBeforeReceipt);
    }
    if new.ended_on.is_some_and(|end| end < new.asked_on) {
        return Err(DeadlineError::SuspensionEndsBeforeStart);
    }
    if new.ended_on.is_none() && others.iter().any(|s| s.ended_on.is_none()) {
        return Err(DeadlineError::SuspensionRunning);
    }
    Ok(())
}

/// The arithmetic in Dutch, one line a step, for the case page and the CLI.
pub fn explain(deadline: &Deadline) -> Vec<String> {
    let fmt = |d: NaiveDate| d.format("%d-%m-%Y").to_string();
    let mut lines = vec![
        format!("Ontvangen op {}.", fmt(deadline.received_on)),
        format!(
            "Vier weken vanaf de dag na ontvangst (Woo art. 4.4 lid 1): {}.",
            fmt(deadline.first_term_raw_end)
        ),
    ];
    if deadline.suspended_days > 0 {
        lines.push(format!(
            "Opgeschort (Awb 4:15, Woo art. 4.4 lid 3): {} dagen erbij.",
            deadline.suspended_days
        ));
    }
    if deadline.extension_days > 0 {
        lines.push(format!(
            "Verdaagd (Woo art. 4.4 lid 2): {} dagen erbij.",
            deadline.extension_days
        ));
    }
    if let Some(kind) = deadline.running_suspension {
        lines.push(format!(
            "De termijn is opgeschort ({}); de nieuwe termijn volgt als de opschorting eindigt.",
            kind.as_str()
        ));
        return lines;
    }
    for (day, why) in &deadline.skipped {
        lines.push(format!(
            "{} is een {} (Algemene termijnenwet art. 1 en 3): de termijn loopt door.",
            fmt(*day),
            why.dutch_name()
        ));
    }
    if let Some(due) = deadline.due {
        lines.push(format!("Uiterste beslisdatum: {}.", fmt(due)));
    }
    lines
}
