#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The decision deadline, table-tested. Every expected date is worked out by hand in the
//! comment beside it (weekdays checked against a printed calendar), never by the code
//! under test: receipt + 28 days, then Atw art. 1 (on to the next working day).

use chrono::NaiveDate;
use loket_core::woo::deadline::{
    DeadlineError, Extension, Suspension, SuspensionKind, check_extension, check_suspension,
    compute, explain,
};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn four_weeks_then_the_next_working_day() {
    // (what, received, expected deadline)
    let table = [
        // Mon 2 Nov 2026 + 28 = Mon 30 Nov 2026, a working day.
        ("ordinary Monday", d(2026, 11, 2), d(2026, 11, 30)),
        // Wed 4 Nov 2026 + 28 = Wed 2 Dec 2026.
        ("ordinary Wednesday", d(2026, 11, 4), d(2026, 12, 2)),
        // Sat 7 Nov 2026 + 28 = Sat 5 Dec 2026 → Sun 6 → Mon 7 Dec 2026.
        ("received on a Saturday", d(2026, 11, 7), d(2026, 12, 7)),
        // Easter 2027 is Sun 28 March. Fri 26 Feb 2027 + 28 = Fri 26 Mar 2027 = Goede
        // Vrijdag (Atw art. 3 lid 2) → Sat 27, Sun 28 (Easter), Mon 29 (tweede Paasdag)
        // → Tue 30 Mar 2027.
        ("before Easter", d(2027, 2, 26), d(2027, 3, 30)),
        // Ascension 2027 = Easter + 39 days = Thu 6 May. Thu 8 Apr 2027 + 28 = Thu 6 May
        // → Fri 7 May 2027 (equated only by royal decree, not by the Atw itself).
        ("Ascension Day", d(2027, 4, 8), d(2027, 5, 7)),
        // Whit Monday 2027 = Easter + 50 = Mon 17 May. Mon 19 Apr 2027 + 28 = Mon 17 May
        // → Tue 18 May 2027.
        ("Whit Monday", d(2027, 4, 19), d(2027, 5, 18)),
        // 27 April 2025 is a Sunday, so Koningsdag is Sat 26 April. Sat 29 Mar 2025 + 28
        // = Sat 26 Apr (Koningsdag and Saturday) → Sun 27 → Mon 28 Apr 2025.
        ("27 April on a Sunday", d(2025, 3, 29), d(2025, 4, 28)),
        // 27 April 2026 is a Monday: Koningsdag. Mon 30 Mar 2026 + 28 = Mon 27 Apr →
        // Tue 28 Apr 2026.
        ("Koningsdag on a Monday", d(2026, 3, 30), d(2026, 4, 28)),
        // 5 May 2026 is a Tuesday (2026 is no lustrum year; 5 May counts every year).
        // Tue 7 Apr 2026 + 28 = Tue 5 May → Wed 6 May 2026.
        ("5 May", d(2026, 4, 7), d(2026, 5, 6)),
        // Christmas 2026: Fri 25 Dec, Sat 26 Dec. Fri 27 Nov 2026 + 28 = Fri 25 Dec →
        // Sat 26 (tweede Kerstdag), Sun 27 → Mon 28 Dec 2026.
        ("Christmas", d(2026, 11, 27), d(2026, 12, 28)),
        // Fri 4 Dec 2026 + 28 = Fri 1 Jan 2027 (Nieuwjaarsdag) → Sat 2, Sun 3 → Mon 4 Jan.
        (
            "New Year across the year end",
            d(2026, 12, 4),
            d(2027, 1, 4),
        ),
        // Sat 28 Nov 2026 + 28 = Sat 26 Dec → Sun 27 → Mon 28 Dec 2026.
        (
            "received on Saturday before Christmas",
            d(2026, 11, 28),
            d(2026, 12, 28),
        ),
    ];
    for (what, received, expected) in table {
        let deadline = compute(received, None, &[]);
        assert_eq!(deadline.due, Some(expected), "{what}");
    }
}

#[test]
fn one_extension_of_at_most_two_weeks_before_the_first_term_ends() {
    let received = d(2026, 11, 2); // first term ends Mon 30 Nov 2026
    let ext = Extension {
        days: 14,
        decided_on: d(2026, 11, 25),
        reason: "omvang: 4.000 gesprekken".into(),
    };
    assert_eq!(check_extension(received, None, &ext), Ok(()));
    // Mon 30 Nov 2026 + 14 = Mon 14 Dec 2026, a working day.
    assert_eq!(
        compute(received, Some(&ext), &[]).due,
        Some(d(2026, 12, 14))
    );
    // Announced on the last day of the first term is still in time.
    let on_last_day = Extension {
        decided_on: d(2026, 11, 30),
        ..ext.clone()
    };
    assert_eq!(check_extension(received, None, &on_last_day), Ok(()));

    assert_eq!(
        check_extension(received, Some(&ext), &ext),
        Err(DeadlineError::SecondExtension)
    );
    let late = Extension {
        decided_on: d(2026, 12, 1),
        ..ext.clone()
    };
    assert_eq!(
        check_extension(received, None, &late),
        Err(DeadlineError::ExtensionAfterTerm {
            first_term_end: d(2026, 11, 30)
        })
    );
    let long = Extension {
        days: 15,
        ..ext.clone()
    };
    assert_eq!(
        check_extension(received, None, &long),
        Err(DeadlineError::ExtensionLength)
    );
    let silent = Extension {
        reason: " ".into(),
        ..ext
    };
    assert_eq!(
        check_extension(received, None, &silent),
        Err(DeadlineError::ExtensionReason)
    );
}

#[test]
fn extension_may_be_announced_until_the_atw_adjusted_first_term_end() {
    // Fri 4 Dec 2026 + 28 = Fri 1 Jan 2027 → first term ends Mon 4 Jan 2027.
    let received = d(2026, 12, 4);
    let ext = Extension {
        days: 14,
        decided_on: d(2027, 1, 4),
        reason: "gecompliceerd".into(),
    };
    assert_eq!(check_extension(received, None, &ext), Ok(()));
    // The extension counts from the unadjusted end: Fri 1 Jan 2027 + 14 = Fri 15 Jan 2027.
    assert_eq!(compute(received, Some(&ext), &[]).due, Some(d(2027, 1, 15)));
}

#[test]
fn two_suspensions_move_the_deadline() {
    let received = d(2026, 11, 2); // raw end Mon 30 Nov 2026
    let precisering = Suspension {
        kind: SuspensionKind::Precisering,
        // Asked Wed 4 Nov, answered Tue 10 Nov: suspended from Thu 5 Nov up to (not
        // including) Tue 10 Nov (Awb 4:15 "tot de dag"): 5, 6, 7, 8, 9 Nov = 5 days.
        asked_on: d(2026, 11, 4),
        ended_on: Some(d(2026, 11, 10)),
    };
    let zienswijze = Suspension {
        kind: SuspensionKind::Zienswijze,
        // Notice Mon 16 Nov, view given Fri 20 Nov: suspended Tue 17 through Fri 20 Nov
        // (Woo 4.4 lid 3 "tot en met"): 17, 18, 19, 20 = 4 days.
        asked_on: d(2026, 11, 16),
        ended_on: Some(d(2026, 11, 20)),
    };
    let both = [precisering.clone(), zienswijze.clone()];
    let deadline = compute(received, None, &both);
    assert_eq!(deadline.suspended_days, 9);
    // Mon 30 Nov + 9 = Wed 9 Dec 2026, a working day.
    assert_eq!(deadline.due, Some(d(2026, 12, 9)));
    // With the extension as well: Mon 30 Nov + 9 + 14 = Wed 23 Dec 2026.
    let ext = Extension {
        days: 14,
        decided_on: d(2026, 11, 27),
        reason: "omvang".into(),
    };
    assert_eq!(
        compute(received, Some(&ext), &both).due,
        Some(d(2026, 12, 23))
    );

    // While a suspension runs there is no deadline, and the page says why.
    let running = Suspension {
        ended_on: None,
        ..zienswijze.clone()
    };
    let open = compute(received, None, &[precisering.clone(), running.clone()]);
    assert_eq!(open.due, None);
    assert!(explain(&open).iter().any(|l| l.contains("opgeschort")));
    assert_eq!(
        check_suspension(received, std::slice::from_ref(&running), &running),
        Err(DeadlineError::SuspensionRunning)
    );
}

#[test]
fn overlapping_suspensions_count_each_day_once() {
    let received = d(2026, 11, 2);
    // Zienswijze 4 → 10 Nov suspends 5..=10 Nov (6 days); precisering 7 → 12 Nov
    // suspends 8..12 Nov (8, 9, 10, 11). Union 5..=11 Nov = 7 days.
    let a = Suspension {
        kind: SuspensionKind::Zienswijze,
        asked_on: d(2026, 11, 4),
        ended_on: Some(d(2026, 11, 10)),
    };
    let b = Suspension {
        kind: SuspensionKind::Precisering,
        asked_on: d(2026, 11, 7),
        ended_on: Some(d(2026, 11, 12)),
    };
    let deadline = compute(received, None, &[a, b]);
    assert_eq!(deadline.suspended_days, 7);
    // Mon 30 Nov + 7 = Mon 7 Dec 2026.
    assert_eq!(deadline.due, Some(d(2026, 12, 7)));
}

#[test]
fn suspension_ending_before_it_starts_is_refused() {
    let received = d(2026, 11, 2);
    let bad = Suspension {
        kind: SuspensionKind::Zienswijze,
        asked_on: d(2026, 11, 16),
        ended_on: Some(d(2026, 11, 15)),
    };
    let e = check_suspension(received, &[], &bad).unwrap_err();
    assert_eq!(e, DeadlineError::SuspensionEndsBeforeStart);
    assert_eq!(e.field(), "ended_on");
    let early = Suspension {
        asked_on: d(2026, 11, 1),
        ended_on: None,
        ..bad
    };
    assert_eq!(
        check_suspension(received, &[], &early),
        Err(DeadlineError::SuspensionBeforeReceipt)
    );
}

#[test]
fn explanation_names_the_skipped_days() {
    let deadline = compute(d(2027, 2, 26), None, &[]);
    let text = explain(&deadline).join("\n");
    assert!(text.contains("26-03-2027 is een Goede Vrijdag"), "{text}");
    assert!(text.contains("29-03-2027 is een tweede Paasdag"), "{text}");
    assert!(text.contains("Uiterste beslisdatum: 30-03-2027."), "{text}");
}

#[test]
fn receipt_date_is_the_dutch_calendar_day() {
    use chrono::TimeZone;
    // 31 March 2026 22:30 UTC is 1 April 00:30 in Amsterdam (CEST, UTC+2).
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 3, 31, 22, 30, 0)
        .unwrap();
    assert_eq!(loket_core::woo::receipt_date(at), d(2026, 4, 1));
    // 15 January 2026 22:30 UTC is 23:30 in Amsterdam (CET, UTC+1): still the 15th.
    let winter = chrono::Utc
        .with_ymd_and_hms(2026, 1, 15, 22, 30, 0)
        .unwrap();
    assert_eq!(loket_core::woo::receipt_date(winter), d(2026, 1, 15));
}
