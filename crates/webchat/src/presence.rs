//! Is anybody online? Office hours (Europe/Amsterdam) and clerk presence.

use crate::config::{OfficeHours, OnlineRule, TenantChatConfig};
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use loket_core::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// Per-tenant count of clerks who have the inbox open. The inbox holds a
/// [`PresenceGuard`] while a clerk's inbox connection is open; dropping it counts down.
#[derive(Clone)]
pub struct ClerkPresence {
    inner: Arc<PresenceInner>,
}

struct PresenceInner {
    counts: Mutex<HashMap<TenantId, usize>>,
    /// Bumped on every change, so open sockets can re-evaluate "online" at once.
    changed: watch::Sender<u64>,
}

impl Default for ClerkPresence {
    fn default() -> Self {
        Self::new()
    }
}

impl ClerkPresence {
    pub fn new() -> Self {
        let (changed, _) = watch::channel(0);
        Self {
            inner: Arc::new(PresenceInner {
                counts: Mutex::new(HashMap::new()),
                changed,
            }),
        }
    }

    /// Counts a clerk in until the guard is dropped.
    pub fn clerk_connected(&self, tenant: TenantId) -> PresenceGuard {
        self.add(tenant, 1);
        PresenceGuard {
            presence: self.clone(),
            tenant,
        }
    }

    /// Clerks currently present for the tenant.
    pub fn count(&self, tenant: TenantId) -> usize {
        let counts = self
            .inner
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.get(&tenant).copied().unwrap_or(0)
    }

    /// A receiver that changes whenever any tenant's count changes.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    fn add(&self, tenant: TenantId, delta: isize) {
        {
            let mut counts = self
                .inner
                .counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let entry = counts.entry(tenant).or_insert(0);
            *entry = entry.saturating_add_signed(delta);
            if *entry == 0 {
                counts.remove(&tenant);
            }
        }
        self.inner.changed.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// Keeps one clerk counted as present.
pub struct PresenceGuard {
    presence: ClerkPresence,
    tenant: TenantId,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        self.presence.add(self.tenant, -1);
    }
}

/// Whether the tenant counts as online at `now` under its rule.
pub fn is_online(cfg: &TenantChatConfig, clerks: usize, now: DateTime<Utc>) -> bool {
    match cfg.online_rule {
        OnlineRule::Always => true,
        OnlineRule::Never => false,
        OnlineRule::ClerkPresent => clerks > 0,
        OnlineRule::OfficeHours => within_office_hours(&cfg.office_hours, now),
        OnlineRule::OfficeHoursAndClerk => {
            clerks > 0 && within_office_hours(&cfg.office_hours, now)
        }
    }
}

/// Office hours are local time in the Netherlands.
pub fn within_office_hours(hours: &OfficeHours, now: DateTime<Utc>) -> bool {
    let local = amsterdam_local(now);
    let date = local.date();
    if hours
        .closed_dates
        .iter()
        .any(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok() == Some(date))
    {
        return false;
    }
    let key = match date.weekday() {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    };
    let t = local.time();
    hours.days.get(key).is_some_and(|ranges| {
        ranges.iter().any(|r| match parse_range(r) {
            Some((from, to)) => t >= from && t < to,
            None => false,
        })
    })
}

fn parse_range(r: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = r.split_once('-')?;
    let from = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let to = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
    Some((from, to))
}

/// Local time in Europe/Amsterdam: UTC+1, and UTC+2 from the last Sunday of March 01:00
/// UTC to the last Sunday of October 01:00 UTC (the EU summer-time rule, Directive
/// 2000/84/EC). Written out so the crate needs no time-zone database.
pub fn amsterdam_local(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    let year = now.year();
    let start = last_sunday_0100_utc(year, 3);
    let end = last_sunday_0100_utc(year, 10);
    let offset = match (start, end) {
        (Some(s), Some(e)) if now >= s && now < e => 2,
        _ => 1,
    };
    (now + Duration::hours(offset)).naive_utc()
}

fn last_sunday_0100_utc(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday();
    let sunday = last - Duration::days(i64::from(back));
    let dt = sunday.and_hms_opt(1, 0, 0)?;
    Some(Utc.from_utc_datetime(&dt))
}

/// Seconds until the next whole minute: office-hour boundaries fall on minutes.
pub fn secs_to_next_minute(now: DateTime<Utc>) -> u64 {
    u64::from(60 - now.second().min(59))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn amsterdam_summer_and_winter_time() {
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(amsterdam_local(utc("2026-03-29T00:59:00Z")).hour(), 1);
        assert_eq!(amsterdam_local(utc("2026-03-29T01:00:00Z")).hour(), 3);
        assert_eq!(amsterdam_local(utc("2026-10-25T00:59:00Z")).hour(), 2);
        assert_eq!(amsterdam_local(utc("2026-10-25T01:00:00Z")).hour(), 2);
        assert_eq!(amsterdam_local(utc("2026-01-15T12:00:00Z")).hour(), 13);
    }

    #[test]
    fn office_hours_rule() {
        let mut cfg = TenantChatConfig::default();
        // Wednesday 25 November 2026, 09:00 local = 08:00 UTC.
        assert!(is_online(&cfg, 0, utc("2026-11-25T08:00:00Z")));
        assert!(!is_online(&cfg, 0, utc("2026-11-25T07:00:00Z")));
        assert!(!is_online(&cfg, 0, utc("2026-11-28T10:00:00Z"))); // Saturday
        cfg.office_hours.closed_dates.push("2026-11-25".into());
        assert!(!is_online(&cfg, 0, utc("2026-11-25T08:00:00Z")));
        cfg.online_rule = OnlineRule::ClerkPresent;
        assert!(!is_online(&cfg, 0, utc("2026-11-25T08:00:00Z")));
        assert!(is_online(&cfg, 1, utc("2026-11-25T08:00:00Z")));
    }

    #[test]
    fn presence_counts_guards() {
        let p = ClerkPresence::new();
        let t = TenantId::new();
        let rx = p.watch();
        let g1 = p.clerk_connected(t);
        let g2 = p.clerk_connected(t);
        assert_eq!(p.count(t), 2);
        drop(g1);
        assert_eq!(p.count(t), 1);
        drop(g2);
        assert_eq!(p.count(t), 0);
        assert!(rx.has_changed().unwrap());
    }
}
