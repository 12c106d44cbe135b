//! Days on which a statutory term may not end: Saturdays, Sundays and the general public
//! holidays of the Algemene termijnenwet (Atw, BWBR0002448), with Easter computed.
//!
//! Atw art. 3 lid 1: "Algemeen erkende feestdagen in de zin van deze wet zijn: de
//! Nieuwjaarsdag, de Christelijke tweede Paas- en Pinksterdag, de beide Kerstdagen, de
//! Hemelvaartsdag, de dag waarop de verjaardag van de Koning wordt gevierd en de vijfde mei."
//! Atw art. 3 lid 2: "Voor de toepassing van deze wet wordt de Goede Vrijdag met de in het
//! vorige lid genoemde dagen gelijkgesteld." Good Friday therefore counts too, although
//! the summaries loket was specified from leave it out: the law text wins.
//!
//! Decisions, so nobody has to guess:
//! - **5 May counts every year.** Art. 3 lid 1 names "de vijfde mei" without condition;
//!   that many employers give the day off only every fifth year is a matter of labour
//!   agreements, not of the Atw.
//! - **The King's birthday as celebrated**: 27 April, or 26 April when 27 April is a Sunday
//!   (Besluit van 2013 on the celebration of Koningsdag). Before 2014 the Queen's birthday
//!   was celebrated on 30 April, or 29 April when that was a Sunday; loket keeps that rule
//!   for older dates so back-dated cases compute as they did then.
//! - **Days equated by royal decree** (art. 3 lid 3: e.g. the Friday after Ascension Day,
//!   published every three years in the Staatscourant) are *not* built in: they are
//!   decided case by case for a few years ahead, so a table would go stale silently. Where
//!   loket's date falls on such a day the body still meets its deadline a day early.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Why a day is not a working day in the sense of Atw art. 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NonWorkingDay {
    Saturday,
    Sunday,
    Nieuwjaarsdag,
    GoedeVrijdag,
    TweedePaasdag,
    Koningsdag,
    Bevrijdingsdag,
    Hemelvaartsdag,
    TweedePinksterdag,
    EersteKerstdag,
    TweedeKerstdag,
}

impl NonWorkingDay {
    /// The Dutch name shown where the deadline arithmetic is explained.
    pub fn dutch_name(self) -> &'static str {
        match self {
            NonWorkingDay::Saturday => "zaterdag",
            NonWorkingDay::Sunday => "zondag",
            NonWorkingDay::Nieuwjaarsdag => "Nieuwjaarsdag",
            NonWorkingDay::GoedeVrijdag => "Goede Vrijdag",
            NonWorkingDay::TweedePaasdag => "tweede Paasdag",
            NonWorkingDay::Koningsdag => "Koningsdag",
            NonWorkingDay::Bevrijdingsdag => "5 mei",
            NonWorkingDay::Hemelvaartsdag => "Hemelvaartsdag",
            NonWorkingDay::TweedePinksterdag => "tweede Pinksterdag",
            NonWorkingDay::EersteKerstdag => "eerste Kerstdag",
            NonWorkingDay::TweedeKerstdag => "tweede Kerstdag",
        }
    }
}

/// Easter Sunday of the Gregorian calendar (the anonymous algorithm published in
/// *Nature*, 1876, also known as Meeus/Jones/Butcher): valid for every year from 1583.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // The algorithm yields 22 March ..= 25 April, always a valid date.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or(NaiveDate::MIN)
}

fn offset(date: NaiveDate, days: i64) -> NaiveDate {
    date.checked_add_signed(chrono::TimeDelta::days(days))
        .unwrap_or(date)
}

/// The day the monarch's birthday is celebrated in `year` (see the module comment).
pub fn koningsdag(year: i32) -> NaiveDate {
    let (day, fallback) = if year >= 2014 { (27, 26) } else { (30, 29) };
    let celebrated = NaiveDate::from_ymd_opt(year, 4, day).unwrap_or(NaiveDate::MIN);
    if celebrated.weekday() == Weekday::Sun {
        NaiveDate::from_ymd_opt(year, 4, fallback).unwrap_or(NaiveDate::MIN)
    } else {
        celebrated
    }
}

/// The general public holiday (Atw art. 3 lid 1, with Good Friday of lid 2) on `date`.
pub fn general_holiday(date: NaiveDate) -> Option<NonWorkingDay> {
    let year = date.year();
    let easter = easter_sunday(year);
    let fixed = match (date.month(), date.day()) {
        (1, 1) => Some(NonWorkingDay::Nieuwjaarsdag),
        (5, 5) => Some(NonWorkingDay::Bevrijdingsdag),
        (12, 25) => Some(NonWorkingDay::EersteKerstdag),
        (12, 26) => Some(NonWorkingDay::TweedeKerstdag),
        _ => None,
    };
    fixed.or_else(|| {
        if date == koningsdag(year) {
            Some(NonWorkingDay::Koningsdag)
        } else if date == offset(easter, -2) {
            Some(NonWorkingDay::GoedeVrijdag)
        } else if date == offset(easter, 1) {
            Some(NonWorkingDay::TweedePaasdag)
        } else if date == offset(easter, 39) {
            Some(NonWorkingDay::Hemelvaartsdag)
        } else if date == offset(easter, 50) {
            Some(NonWorkingDay::TweedePinksterdag)
        } else {
            None
        }
    })
}

/// Why `date` is not a day on which a term may end, or `None` for a working day.
pub fn non_working_day(date: NaiveDate) -> Option<NonWorkingDay> {
    match date.weekday() {
        Weekday::Sat => Some(NonWorkingDay::Saturday),
        Weekday::Sun => Some(NonWorkingDay::Sunday),
        _ => general_holiday(date),
    }
}

/// Atw art. 1 lid 1: "Een in een wet gestelde termijn die op een zaterdag, zondag of
/// algemeen erkende feestdag eindigt, wordt verlengd tot en met de eerstvolgende dag die
/// niet een zaterdag, zondag of algemeen erkende feestdag is." Returns that day and the
/// days skipped on the way, for the explanation.
pub fn next_working_day(term_end: NaiveDate) -> (NaiveDate, Vec<(NaiveDate, NonWorkingDay)>) {
    let mut day = term_end;
    let mut skipped = Vec::new();
    while let Some(why) = non_working_day(day) {
        skipped.push((day, why));
        match day.checked_add_days(Days::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    (day, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn easter_matches_published_dates() {
        // Dates from the church calendars, not from the algorithm.
        for (year, month, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(year), d(year, month, day), "{year}");
        }
    }

    #[test]
    fn koningsdag_moves_to_saturday_when_27_april_is_a_sunday() {
        assert_eq!(koningsdag(2025), d(2025, 4, 26)); // 27 April 2025 is a Sunday
        assert_eq!(koningsdag(2026), d(2026, 4, 27));
        assert_eq!(general_holiday(d(2025, 4, 27)), None);
        assert_eq!(koningsdag(2012), d(2012, 4, 30));
    }

    #[test]
    fn fifth_of_may_counts_in_a_year_that_is_not_a_lustrum() {
        assert_eq!(
            general_holiday(d(2026, 5, 5)),
            Some(NonWorkingDay::Bevrijdingsdag)
        );
        assert_eq!(
            general_holiday(d(2025, 5, 5)),
            Some(NonWorkingDay::Bevrijdingsdag)
        );
    }

    #[test]
    fn first_easter_and_whit_sunday_are_sundays_not_extra_holidays() {
        // Easter Monday 2026 is 6 April, Whit Monday 25 May; the Tuesday after is work.
        assert_eq!(
            general_holiday(d(2026, 4, 6)),
            Some(NonWorkingDay::TweedePaasdag)
        );
        assert_eq!(general_holiday(d(2026, 4, 7)), None);
        assert_eq!(
            general_holiday(d(2026, 5, 25)),
            Some(NonWorkingDay::TweedePinksterdag)
        );
        assert_eq!(
            general_holiday(d(2026, 5, 14)),
            Some(NonWorkingDay::Hemelvaartsdag)
        );
        assert_eq!(
            general_holiday(d(2026, 4, 3)),
            Some(NonWorkingDay::GoedeVrijdag)
        );
    }
}
