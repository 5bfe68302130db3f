//! Today's date and the current instant. `COOPBENCH_TODAY=YYYY-MM-DD` pins
//! the date (tests and the dated bundled example use it); the association
//! re-checks round windows on its side, so the override only fools the member.

use coopbench_protocol::Date;

/// Today's local date, or `$COOPBENCH_TODAY`.
pub fn today() -> Result<Date, String> {
    match std::env::var("COOPBENCH_TODAY") {
        Ok(s) if !s.is_empty() => Date::parse(&s).map_err(|e| format!("COOPBENCH_TODAY: {e}")),
        _ => Ok(Date(chrono::Local::now().date_naive())),
    }
}

/// Now in UTC; with `$COOPBENCH_TODAY`, noon UTC of that day.
pub fn now() -> Result<chrono::DateTime<chrono::Utc>, String> {
    match std::env::var("COOPBENCH_TODAY") {
        Ok(s) if !s.is_empty() => {
            let d = today()?;
            Ok(d.0.and_hms_opt(12, 0, 0).expect("noon exists").and_utc())
        }
        _ => Ok(chrono::Utc::now()),
    }
}
