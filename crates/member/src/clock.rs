//! Today's date and the current instant.
//!
//! `COOPBENCH_TODAY=YYYY-MM-DD` moves "today" for the round-window checks
//! only (the round opens, closes, the period is old enough, the pool's
//! sunset): tests and the dated bundled example use it, and the association
//! re-checks round windows on its side, so the override only fools the member
//! about windows. It never moves the privacy ledger's stamps or the policy
//! window: [`now`] is always the real clock, so an export made under an
//! override date is charged at the real time and counted by every later
//! policy check. Commands that read the override say so on stderr.

use coopbench_protocol::Date;
use std::sync::atomic::{AtomicBool, Ordering};

static NOTICE_SHOWN: AtomicBool = AtomicBool::new(false);

/// Today's local date for round-window checks, or `$COOPBENCH_TODAY` (with a
/// notice on stderr, once per process).
pub fn today() -> Result<Date, String> {
    match std::env::var("COOPBENCH_TODAY") {
        Ok(s) if !s.is_empty() => {
            let d = Date::parse(&s).map_err(|e| format!("COOPBENCH_TODAY: {e}"))?;
            if !NOTICE_SHOWN.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "note: COOPBENCH_TODAY={d}: round windows are checked as of that day; the ledger and your policy use the real clock"
                );
            }
            Ok(d)
        }
        _ => Ok(Date(chrono::Local::now().date_naive())),
    }
}

/// Now in UTC, from the real clock always (ledger stamps, the policy window).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// A ledger stamp: RFC 3339, UTC, with the clock's sub-second digits (a
/// stamp truncated to whole seconds would leave the policy window up to a
/// second early).
pub fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    coopbench_privacy::ledger::rfc3339(at)
}
