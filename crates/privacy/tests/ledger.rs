//! The privacy ledger (append-only JSON lines, torn tails, corruption) and the
//! budget policy.

use std::{fs, io::Write, path::Path};

use chrono::{DateTime, TimeDelta, Utc};
use coopbench_privacy::{rfc3339, Ledger, LedgerEntry, LedgerError, Policy, PolicyError};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn entry(at: &str, round: &str, rho: f64) -> LedgerEntry {
    LedgerEntry {
        at: at.into(),
        pool_id: "bakeries-nrw".into(),
        round_id: round.into(),
        round_hash: format!("sha256:{round}"),
        sequence: 1,
        rho,
        epsilon: 3.0,
        delta: 1e-6,
        reason: LedgerEntry::EXPORT.into(),
    }
}

fn append_raw(path: &Path, bytes: &[u8]) {
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

#[test]
fn append_and_reopen_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    assert!(ledger.entries().is_empty());
    assert!(!path.exists(), "opening must not create the file");
    let a = entry("2025-01-10T09:00:00Z", "2024-q4", 0.5);
    let mut b = entry("2025-04-10T09:00:00Z", "2025-q1", 0.25);
    b.reason = LedgerEntry::SUPERSEDE.into();
    b.sequence = 2;
    ledger.append(a.clone()).unwrap();
    ledger.append(b.clone()).unwrap();
    assert_eq!(ledger.entries(), &[a.clone(), b.clone()]);

    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.ends_with('\n'));

    let reopened = Ledger::open(&path).unwrap();
    assert_eq!(reopened.entries(), &[a, b]);
    assert!(!reopened.torn_tail());
    assert!(reopened.ignored_lines().is_empty());
    assert_eq!(reopened.path(), path);
}

#[test]
fn torn_tail_is_ignored_and_next_append_starts_a_fresh_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    let first = entry("2025-01-10T09:00:00Z", "r1", 0.5);
    ledger.append(first.clone()).unwrap();
    // A power loss in the middle of the next append.
    let torn = serde_json::to_string(&entry("2025-02-10T09:00:00Z", "r2", 0.7)).unwrap();
    append_raw(&path, &torn.as_bytes()[..60]);

    let mut ledger = Ledger::open(&path).unwrap();
    assert!(ledger.torn_tail());
    assert_eq!(ledger.entries(), std::slice::from_ref(&first));
    assert_eq!(ledger.spent_for_round("r2"), 0.0);

    let third = entry("2025-03-10T09:00:00Z", "r3", 0.25);
    ledger.append(third.clone()).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[1], &torn[..60]);
    assert_eq!(
        serde_json::from_str::<LedgerEntry>(lines[2]).unwrap(),
        third
    );

    let reopened = Ledger::open(&path).unwrap();
    assert_eq!(reopened.entries(), &[first, third]);
    assert!(!reopened.torn_tail());
    assert_eq!(reopened.ignored_lines(), &[2]);
}

#[test]
fn torn_tail_of_nul_bytes_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    ledger
        .append(entry("2025-01-10T09:00:00Z", "r1", 0.5))
        .unwrap();
    append_raw(&path, &[0u8; 37]);
    let mut ledger = Ledger::open(&path).unwrap();
    assert!(ledger.torn_tail());
    ledger
        .append(entry("2025-01-11T09:00:00Z", "r2", 0.5))
        .unwrap();
    let reopened = Ledger::open(&path).unwrap();
    assert_eq!(reopened.entries().len(), 2);
    assert_eq!(reopened.ignored_lines(), &[2]);
}

#[test]
fn whole_entry_missing_only_its_newline_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let e = entry("2025-01-10T09:00:00Z", "r1", 0.5);
    fs::write(&path, serde_json::to_string(&e).unwrap()).unwrap();
    let mut ledger = Ledger::open(&path).unwrap();
    assert!(ledger.torn_tail());
    assert_eq!(ledger.entries(), std::slice::from_ref(&e));
    ledger
        .append(entry("2025-01-11T09:00:00Z", "r2", 0.5))
        .unwrap();
    let reopened = Ledger::open(&path).unwrap();
    assert_eq!(reopened.entries().len(), 2);
    assert!(reopened.ignored_lines().is_empty());
}

#[test]
fn corrupt_middle_line_is_an_error_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    ledger
        .append(entry("2025-01-10T09:00:00Z", "r1", 0.5))
        .unwrap();
    append_raw(&path, b"this is not json\n");
    ledger
        .append(entry("2025-01-11T09:00:00Z", "r2", 0.5))
        .unwrap();
    let err = Ledger::open(&path).unwrap_err();
    match &err {
        LedgerError::Corrupt { line, path: p, .. } => {
            assert_eq!(*line, 2);
            assert_eq!(p, &path);
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("line 2") && msg.contains("ledger.jsonl"),
        "{msg}"
    );
}

#[test]
fn invalid_entries_are_errors_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_string(&entry("2025-01-10T09:00:00Z", "r1", 0.5)).unwrap();
    let cases = [
        // negative ρ would lower the spending
        good.replace("\"rho\":0.5", "\"rho\":-0.5"),
        // a missing field
        good.replace("\"rho\":0.5,", ""),
        good.replace("2025-01-10T09:00:00Z", "last tuesday"),
        good.replace("\"export\"", "\"refund\""),
        String::new(),
        "[1,2,3]".into(),
    ];
    for (i, bad) in cases.iter().enumerate() {
        let path = dir.path().join(format!("ledger-{i}.jsonl"));
        fs::write(&path, format!("{good}\n{good}\n{bad}\n{good}\n")).unwrap();
        match Ledger::open(&path) {
            Err(LedgerError::Corrupt { line: 3, .. }) => {}
            other => panic!("case {i}: {other:?}"),
        }
    }
    // A last line without newline that is not part of an entry is refused too,
    // rather than sealed into a line that would fail later.
    let path = dir.path().join("ledger-tail.jsonl");
    fs::write(&path, format!("{good}\nxyz")).unwrap();
    assert!(matches!(
        Ledger::open(&path),
        Err(LedgerError::Corrupt { line: 2, .. })
    ));
}

#[test]
fn append_refuses_invalid_entries_and_leaves_the_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    let mut bad = entry("2025-01-10T09:00:00Z", "r1", f64::NAN);
    assert!(matches!(
        ledger.append(bad.clone()),
        Err(LedgerError::InvalidEntry { .. })
    ));
    bad.rho = 0.5;
    bad.at = "2025-01-10 09:00".into();
    assert!(matches!(
        ledger.append(bad),
        Err(LedgerError::InvalidEntry { .. })
    ));
    assert!(!path.exists());
    assert!(ledger.entries().is_empty());
}

#[test]
fn append_fails_cleanly_without_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    let err = ledger
        .append(entry("2025-01-10T09:00:00Z", "r1", 0.5))
        .unwrap_err();
    assert!(matches!(err, LedgerError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("ledger.jsonl"));
}

#[test]
fn spent_since_and_per_round() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    ledger
        .append(entry("2024-01-01T00:00:00Z", "a", 1.0))
        .unwrap();
    ledger
        .append(entry("2024-06-01T00:00:00Z", "b", 0.5))
        .unwrap();
    ledger
        .append(entry("2024-06-01T00:00:00+02:00", "b", 0.125))
        .unwrap();
    ledger
        .append(entry("2025-01-01T00:00:00Z", "c", 0.25))
        .unwrap();
    assert_eq!(ledger.spent_since(t("2000-01-01T00:00:00Z")), 1.875);
    // At the boundary: entries at exactly `since` count.
    assert_eq!(ledger.spent_since(t("2024-06-01T00:00:00Z")), 0.75);
    assert_eq!(ledger.spent_since(t("2024-05-31T22:00:00Z")), 0.875);
    assert_eq!(ledger.spent_since(t("2024-05-31T22:00:01Z")), 0.75);
    assert_eq!(ledger.spent_since(t("2025-01-01T00:00:01Z")), 0.0);
    assert_eq!(ledger.spent_for_round("b"), 0.625);
    assert_eq!(ledger.spent_for_round("zzz"), 0.0);
    assert_eq!(
        rfc3339(t("2024-06-01T02:00:00+02:00")),
        "2024-06-01T00:00:00Z"
    );
    // Sub-second digits are kept, so a stamp is never earlier than its charge.
    let precise = t("2024-06-01T00:00:00.999999Z");
    assert_eq!(rfc3339(precise), "2024-06-01T00:00:00.999999Z");
    assert_eq!(t(&rfc3339(precise)), precise);
}

#[test]
fn policy_refuses_rounds_that_break_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let mut ledger = Ledger::open(&path).unwrap();
    let now = t("2025-06-01T12:00:00Z");
    // Outside the 365-day window: does not count.
    ledger
        .append(entry(&rfc3339(now - TimeDelta::days(400)), "old", 1.5))
        .unwrap();
    ledger
        .append(entry(&rfc3339(now - TimeDelta::days(100)), "r1", 1.0))
        .unwrap();
    ledger
        .append(entry(&rfc3339(now - TimeDelta::days(10)), "r2", 0.5))
        .unwrap();

    let policy = Policy::default();
    assert_eq!(
        policy,
        Policy {
            max_rho: 2.0,
            window_days: 365
        }
    );
    let ok = policy.check(&ledger, now, 0.5).unwrap();
    assert_eq!((ok.spent, ok.after, ok.cap), (1.5, 2.0, 2.0));
    assert_eq!(ok.left(), 0.0);

    let err = policy.check(&ledger, now, 0.75).unwrap_err();
    assert!(matches!(err, PolicyError::Exceeded { .. }), "{err:?}");
    let msg = err.to_string();
    for needle in ["0.75", "1.5", "2.25", "ρ = 2 ", "365 days"] {
        assert!(msg.contains(needle), "{needle:?} missing from {msg}");
    }

    // A shorter window forgets r1.
    let short = Policy {
        max_rho: 1.0,
        window_days: 30,
    };
    assert_eq!(short.check(&ledger, now, 0.5).unwrap().spent, 0.5);
    assert!(short.check(&ledger, now, 0.51).is_err());
    assert!(matches!(
        policy.check(&ledger, now, -1.0),
        Err(PolicyError::InvalidRequest { .. })
    ));
    // A window longer than the calendar counts every entry instead of panicking.
    let forever = Policy {
        max_rho: 10.0,
        window_days: u32::MAX,
    };
    assert_eq!(forever.check(&ledger, now, 0.0).unwrap().spent, 3.0);
    assert!(matches!(
        Policy {
            max_rho: 1.0,
            window_days: 0
        }
        .check(&ledger, now, 0.1),
        Err(PolicyError::Invalid { .. })
    ));
}

#[test]
fn policy_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    assert!(matches!(Policy::load(&path), Err(PolicyError::Io { .. })));
    assert_eq!(Policy::load_or_default(&path).unwrap(), Policy::default());

    let policy = Policy {
        max_rho: 0.75,
        window_days: 90,
    };
    policy.save(&path).unwrap();
    assert_eq!(Policy::load(&path).unwrap(), policy);
    // Overwrite in place, leaving no temporary files behind.
    let tighter = Policy {
        max_rho: 0.5,
        window_days: 90,
    };
    tighter.save(&path).unwrap();
    assert_eq!(Policy::load(&path).unwrap(), tighter);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    fs::write(
        &path,
        r#"{"max_rho": 1.0, "window_days": 30, "max_eps": 3}"#,
    )
    .unwrap();
    assert!(matches!(
        Policy::load(&path),
        Err(PolicyError::Parse { .. })
    ));
    fs::write(&path, r#"{"max_rho": -1.0, "window_days": 30}"#).unwrap();
    assert!(matches!(
        Policy::load(&path),
        Err(PolicyError::Invalid { .. })
    ));
    fs::write(&path, "not json").unwrap();
    let err = Policy::load(&path).unwrap_err();
    assert!(err.to_string().contains("policy.json"), "{err}");
    assert!(Policy {
        max_rho: f64::NAN,
        window_days: 1
    }
    .save(dir.path().join("p2.json"))
    .is_err());
}

#[test]
fn ten_rounds_of_a_fifth_fit_a_cap_of_two_but_not_an_eleventh() {
    use coopbench_privacy::{Ledger, LedgerEntry, Policy};
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path().join("ledger.jsonl")).unwrap();
    let now = chrono::Utc::now();
    let policy = Policy::default();
    for i in 0..10u32 {
        policy
            .check(&ledger, now, 0.2)
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
        ledger
            .append(LedgerEntry {
                at: coopbench_privacy::rfc3339(now),
                pool_id: "p".into(),
                round_id: format!("r{i}"),
                round_hash: "00".into(),
                sequence: 1,
                rho: 0.2,
                epsilon: 1.0,
                delta: 1e-6,
                reason: "export".into(),
            })
            .unwrap();
    }
    assert!(policy.check(&ledger, now, 0.2).is_err());
    assert!(policy.check(&ledger, now, 1e-6).is_err());
}

#[test]
fn nothing_spent_is_zero_not_minus_zero() {
    // f64's `Sum` starts at -0.0: an empty ledger must still read "0".
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path().join("ledger.jsonl")).unwrap();
    let spent = ledger.spent_since(t("2020-01-01T00:00:00Z"));
    assert!(spent.is_sign_positive(), "{spent}");
    assert_eq!(ledger.spent_for_round("r").to_string(), "0");
    let policy = Policy {
        max_rho: 0.5,
        window_days: 365,
    };
    let e = policy
        .check(&ledger, t("2025-01-01T00:00:00Z"), 1.0)
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("ρ = 0 is already spent"), "{msg}");
    assert!(!msg.contains("-0"), "{msg}");
}
