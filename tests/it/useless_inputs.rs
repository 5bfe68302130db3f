//! Inputs that would make a contribution useless are refused by `export`
//! before anything is charged or written, and named by `plan` as warnings:
//! a file with no row in the round's period, a metric with no row at all
//! (unless the member confirms a true zero), a ratio without a value.

use crate::common::fixture::{costs, sales, Member};
use coopbench_protocol::round::Filter;

/// The member's sales rows moved one year back: none lies in Q4 2025.
fn last_years_sales() -> String {
    sales()
        .replace("2025-1", "2024-1")
        .replace("2025-09", "2024-09")
}

/// Nothing of the export's effects exists: no charge, no contribution, no
/// stored export record.
fn assert_nothing_spent(m: &Member) {
    assert!(
        m.ledger_lines().is_empty(),
        "charged: {:?}",
        m.ledger_lines()
    );
    assert!(!m.dir.path().join("contribution.json").exists());
    let exports = m.state().join("exports");
    assert_eq!(
        files_under(&exports),
        0,
        "an export record was stored in {exports:?}"
    );
}

/// Regular files under `dir`, at any depth (0 when it does not exist).
fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        files_under(&p)
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_file_with_no_row_in_the_period_is_refused_before_the_charge_and_plan_warns() {
    let m = Member::new();
    m.dir.write("sales.csv", last_years_sales());
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "sales.csv: no row is dated inside the round's period 2025-10-01 to 2025-12-31"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("nothing was charged or written"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("date_format"),
        "the fix is named: {}",
        run.stderr
    );
    assert_nothing_spent(&m);
    // --allow-empty is for true zeros of a metric, not for a file of another period.
    m.export(&["--allow-empty"]).expect_code(1);
    assert_nothing_spent(&m);

    let plan = m.plan();
    plan.expect_code(0);
    assert!(
        plan.stdout
            .contains("export would refuse these files: sales.csv: no row is dated inside"),
        "{}",
        plan.stdout
    );
    assert_nothing_spent(&m);
}

#[test]
fn a_metric_with_no_row_is_refused_unless_the_member_confirms_a_true_zero() {
    // The costs metric asks for energy costs only; the bakery's books have none.
    let m = Member::with_round(|r| {
        let costs = r.metrics.iter_mut().find(|m| m.name == "costs").unwrap();
        costs.filter = vec![Filter {
            field: "cost_type".into(),
            values: vec!["energy".into()],
        }];
    });
    let run = m.export(&[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(
            "metric 'costs': no row of your costs file in the period matches cost_type in [energy]"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--allow-empty"), "{}", run.stderr);
    assert_nothing_spent(&m);

    let plan = m.plan();
    plan.expect_code(0);
    assert!(
        plan.stdout.contains(
            "export would refuse these files unless you pass --allow-empty: metric 'costs'"
        ),
        "{}",
        plan.stdout
    );

    let ok = m.export(&["--allow-empty"]);
    ok.expect_code(0);
    assert_eq!(m.ledger_lines().len(), 1, "charged once");
    assert!(m.dir.path().join("contribution.json").exists());
}

#[test]
fn months_without_rows_are_a_warning_not_a_refusal() {
    let m = Member::new();
    // No sales in December: the December cells would be low, but the
    // contribution still carries October and November.
    let sales_without_december: String = sales()
        .lines()
        .filter(|l| !l.starts_with("2025-12"))
        .map(|l| format!("{l}\n"))
        .collect();
    m.dir.write("sales.csv", sales_without_december);
    m.dir.write("costs.csv", costs());
    let run = m.export(&[]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("Warning: sales.csv: no row in 1 of the period's months (2025-12)"),
        "{}",
        run.stdout
    );
    assert_eq!(m.ledger_lines().len(), 1);
}

#[test]
fn a_ratio_whose_denominator_is_never_positive_is_named_as_without_value() {
    // avg_ticket = net sales / transactions: a till that writes no
    // transaction counts gives the ratio no value in any cell.
    let m = Member::new();
    let no_transactions: String = sales()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                let mut f: Vec<&str> = l.split(',').collect();
                f[5] = "0";
                format!("{}\n", f.join(","))
            }
        })
        .collect();
    m.dir.write("sales.csv", no_transactions);
    let run = m.export(&[]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("Warning: metric 'avg_ticket': your files give it no value"),
        "{}",
        run.stdout
    );
}
