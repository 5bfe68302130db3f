//! `coopbench validate` driven as a member drives it: files written into a
//! scratch directory, the binary run there with bare file names, and its exit
//! code, problem lines, summary and JSON checked.

use crate::common::{row_of, rule_of, sales_csv, sales_row, Dir, COSTS_HEADER, SALES_HEADER};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Exit codes
// ---------------------------------------------------------------------------

#[test]
fn valid_file_exits_0_with_an_ok_summary_and_no_problem_lines() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[&sales_row("R1"), &sales_row("R2"), &sales_row("")]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(0);
    assert!(run.problems("sales.csv").is_empty(), "{}", run.stdout);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (3 rows, schema sales.v1)"
    );
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
}

#[test]
fn invalid_data_exits_1() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[&sales_row("R1"), "2025-01-05,bread,store,12.50,-1,1,EUR,R2"]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(run.problems("sales.csv").len(), 1, "{}", run.stdout);
    assert!(run
        .summary("sales.csv")
        .starts_with("sales.csv: INVALID (2 rows, schema sales.v1): 1 problem"));
}

#[test]
fn one_invalid_file_among_several_exits_1_and_every_file_gets_a_summary() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    d.write(
        "costs.csv",
        format!("{COSTS_HEADER}\n2025-01-31,rent,1200,EUR,,\n2025-01-31,rent,-1,EUR,,\n"),
    );
    let run = d.validate(&["sales.csv", "costs.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (1 row, schema sales.v1)"
    );
    assert!(run
        .summary("costs.csv")
        .starts_with("costs.csv: INVALID (2 rows, schema costs.v1)"));
    assert!(run.problems("sales.csv").is_empty());
    assert_eq!(
        run.problems("costs.csv"),
        vec!["costs.csv:3:amount: minimum: -1 is below the minimum 0"]
    );
}

#[test]
fn missing_file_exits_2_and_names_it_on_stderr() {
    let d = Dir::new();
    let run = d.validate(&["sales.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("sales.csv"), "stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
}

#[test]
fn missing_file_after_a_valid_one_still_exits_2() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    d.validate(&["sales.csv", "costs.csv"]).expect_code(2);
}

#[test]
fn a_directory_instead_of_a_file_exits_2() {
    let d = Dir::new();
    std::fs::create_dir(d.path().join("sales.csv")).unwrap();
    d.validate(&["sales.csv"]).expect_code(2);
}

#[test]
fn unknown_kind_exits_2_and_lists_the_kinds() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    let run = d.validate(&["--kind", "invoices", "sales.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("invoices"), "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("sales") && run.stderr.contains("costs"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn a_name_that_says_neither_sales_nor_costs_needs_kind() {
    let d = Dir::new();
    d.write("export.csv", sales_csv(&[&sales_row("R1")]));
    let run = d.validate(&["export.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("export.csv"), "stderr: {}", run.stderr);
    assert!(run.stderr.contains("--kind"), "stderr: {}", run.stderr);
    // With the kind given, the same file is valid.
    let run = d.validate(&["--kind", "sales", "export.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("export.csv"),
        "export.csv: OK (1 row, schema sales.v1)"
    );
}

#[test]
fn a_name_that_says_both_sales_and_costs_needs_kind() {
    let d = Dir::new();
    d.write("sales_and_costs.csv", sales_csv(&[&sales_row("R1")]));
    d.validate(&["sales_and_costs.csv"]).expect_code(2);
}

#[test]
fn the_kind_is_read_from_the_file_name_case_insensitively() {
    let d = Dir::new();
    d.write(
        "Q1-COSTS.csv",
        format!("{COSTS_HEADER}\n2025-01-31,rent,1200,EUR,,\n"),
    );
    let run = d.validate(&["Q1-COSTS.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("Q1-COSTS.csv"),
        "Q1-COSTS.csv: OK (1 row, schema costs.v1)"
    );
}

#[test]
fn bad_map_files_exit_2() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    // Not TOML at all.
    d.write("broken.toml", "columns = [\n");
    let run = d.validate(&["--map", "broken.toml", "sales.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("broken.toml"), "stderr: {}", run.stderr);
    // Valid TOML with a misspelt key: rejected rather than silently ignored.
    d.write("typo.toml", "[colums]\n\"Datum\" = \"date\"\n");
    d.validate(&["--map", "typo.toml", "sales.csv"])
        .expect_code(2);
    // A date format that is not a strptime pattern.
    d.write("fmt.toml", "date_format = \"DD.MM.YYYY\"\n");
    let run = d.validate(&["--map", "fmt.toml", "sales.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("date_format"), "stderr: {}", run.stderr);
    // A time code, or a code that is not a date code: a mapping error (exit 2)
    // naming the code, not a CSV delimiter problem or every row failing.
    for (format, says) in [("%d.%m.%Y %H", "time code %H"), ("%Q", "%Q")] {
        d.write("fmt.toml", &format!("date_format = \"{format}\"\n"));
        let run = d.validate(&["--map", "fmt.toml", "sales.csv"]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("fmt.toml") && run.stderr.contains(says),
            "{format}: stderr: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("delimiter"), "stderr: {}", run.stderr);
    }
    // A mapping file that does not exist.
    let run = d.validate(&["--map", "nowhere.toml", "sales.csv"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("nowhere.toml"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn decimal_comma_with_a_comma_delimiter_exits_2() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    let run = d.validate(&["--decimal-comma", "sales.csv"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--delimiter"), "stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout: {}", run.stdout);
}

#[test]
fn other_usage_errors_exit_2() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    d.validate(&[]).expect_code(2);
    d.validate(&["--delimiter", ";;", "sales.csv"])
        .expect_code(2);
    d.validate(&["--encoding", "ebcdic", "sales.csv"])
        .expect_code(2);
    d.validate(&["--format", "xml", "sales.csv"]).expect_code(2);
    d.validate(&["--max-errors", "-1", "sales.csv"])
        .expect_code(2);
    d.validate(&["--no-such-flag", "sales.csv"]).expect_code(2);
    // --kind and --schema contradict each other.
    d.write("schema.json", r#"{"fields":[{"name":"a"}]}"#);
    d.validate(&["--kind", "sales", "--schema", "schema.json", "sales.csv"])
        .expect_code(2);
    // A schema that is not JSON, or not a Table Schema.
    d.write("bad.json", "{ fields: ");
    d.validate(&["--schema", "bad.json", "sales.csv"])
        .expect_code(2);
    d.write(
        "badtype.json",
        r#"{"fields":[{"name":"a","type":"geopoint"}]}"#,
    );
    d.validate(&["--schema", "badtype.json", "sales.csv"])
        .expect_code(2);
    d.validate(&["--schema", "missing.json", "sales.csv"])
        .expect_code(2);
}

#[test]
fn help_exits_0() {
    let d = Dir::new();
    let run = d.validate(&["--help"]);
    run.expect_code(0);
    assert!(run.stdout.contains("--max-errors"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------
// The line format
// ---------------------------------------------------------------------------

#[test]
fn problem_lines_are_file_row_column_rule_message() {
    let d = Dir::new();
    // Header is row 1, data rows 2..=6 valid, row 7 has units -3.
    let rows: Vec<String> = (1..=5).map(|i| sales_row(&format!("R{i}"))).collect();
    let mut rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    rows.push("2025-01-05,bread,store,12.50,-3,1,EUR,R6");
    d.write("sales.csv", sales_csv(&rows));
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:7:units: minimum: -3 is below the minimum 0"),
        "line: {}",
        lines[0]
    );
    assert_eq!(
        lines[0],
        "sales.csv:7:units: minimum: -3 is below the minimum 0"
    );
}

#[test]
fn the_file_part_is_the_path_exactly_as_typed() {
    let d = Dir::new();
    let body = sales_csv(&["2025-01-05,bread,store,12.50,-3,1,EUR,R1"]);
    d.write("sales.csv", &body);
    d.write("shop/sales.csv", &body);
    let run = d.validate(&["./sales.csv", "shop/sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("./sales.csv"),
        vec!["./sales.csv:2:units: minimum: -3 is below the minimum 0"]
    );
    assert_eq!(
        run.problems("shop/sales.csv"),
        vec!["shop/sales.csv:2:units: minimum: -3 is below the minimum 0"]
    );
}

#[test]
fn file_level_problems_have_no_column_part() {
    let d = Dir::new();
    d.write("sales.csv", "");
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:1: empty-file: "),
        "line: {}",
        lines[0]
    );
}

#[test]
fn problems_come_in_file_order_and_then_the_summary() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,12.50,3,-1,EUR,R1",
            &sales_row("R2"),
            "2025-01-05,bread,store,12.50,-1,1,eur,R3",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:2:transactions: minimum: -1 is below the minimum 0",
            "sales.csv:4:units: minimum: -1 is below the minimum 0",
            "sales.csv:4:currency: pattern: \"eur\" does not match the pattern ^[A-Z]{3}$",
        ]
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[3].starts_with("sales.csv: INVALID"), "{}", run.stdout);
}

// ---------------------------------------------------------------------------
// Every rule through the CLI
// ---------------------------------------------------------------------------

#[test]
fn type_integer() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,12.50,1.5,1,EUR,R1",
            "2025-01-05,bread,store,12.50,three,1,EUR,R2",
            "2025-01-05,bread,store,12.50,99999999999999999999,1,EUR,R3",
            "2025-01-05,bread,store,12.50,+4,1,EUR,R4",
            "2025-01-05,bread,store,12.50,3,1 ,EUR,R5",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:2:units: type: \"1.5\" is not a whole number",
            "sales.csv:3:units: type: \"three\" is not a whole number",
            "sales.csv:4:units: type: 99999999999999999999 is outside the 64-bit integer range",
            "sales.csv:6:transactions: type: \"1 \" is not a whole number",
        ]
    );
    assert_eq!(run.count_of("sales.csv", "type", "units"), Some(3));
    assert_eq!(run.count_of("sales.csv", "type", "transactions"), Some(1));
}

#[test]
fn type_number() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,abc,1,1,EUR,R1",
            "2025-01-05,bread,store,\"12,50\",1,1,EUR,R2",
            "2025-01-05,bread,store,-3.75,1,1,EUR,R3",
            "2025-01-05,bread,store,1e3,1,1,EUR,R4",
            "2025-01-05,bread,store,.5,1,1,EUR,R5",
            "2025-01-05,bread,store,1.2.3,1,1,EUR,R6",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(
        lines[0],
        "sales.csv:2:net_amount: type: \"abc\" is not a number (write it as 1204.50)"
    );
    assert!(
        lines[1].starts_with("sales.csv:3:net_amount: type: \"12,50\" is not a number"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("--decimal-comma"),
        "hint missing: {}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "sales.csv:7:net_amount: type: \"1.2.3\" is not a number (write it as 1204.50)"
    );
}

#[test]
fn type_date() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-02-30,bread,store,1,1,1,EUR,R1", // no 30 February
            "2025-1-5,bread,store,1,1,1,EUR,R2",   // not zero-padded
            "2024-02-29,bread,store,1,1,1,EUR,R3", // leap day: valid
            "2025-02-29,bread,store,1,1,1,EUR,R4", // not a leap year
            "05.01.2025,bread,store,1,1,1,EUR,R5", // another format
            "2025-13-01,bread,store,1,1,1,EUR,R6", // month 13
            "2025-01-05T10:00,bread,store,1,1,1,EUR,R7",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    let rows: Vec<u64> = lines.iter().filter_map(|l| row_of(l)).collect();
    assert_eq!(rows, vec![2, 3, 5, 6, 7, 8], "{}", run.stdout);
    assert!(
        lines
            .iter()
            .all(|l| rule_of(l) == Some("type") && l.contains(":date: type: ")),
        "{lines:#?}"
    );
    assert!(
        lines[0].starts_with(
            "sales.csv:2:date: type: \"2025-02-30\" is not a valid date in the format YYYY-MM-DD"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("sales.csv:3:date: type: \"2025-1-5\" is not a valid date"),
        "{}",
        lines[1]
    );
    assert_eq!(run.count_of("sales.csv", "type", "date"), Some(6));
}

#[test]
fn required() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,,store,1,1,1,EUR,R1",
            "2025-01-05,bread,store,1,1,1,EUR,", // receipt_id is optional
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:2:category: required: a value is required but the cell is empty"]
    );
    assert_eq!(run.count_of("sales.csv", "required", "category"), Some(1));
}

#[test]
fn a_required_empty_cell_is_not_also_a_type_error() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&["2025-01-05,bread,store,1,,1,EUR,R1"]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:2:units: required: a value is required but the cell is empty"]
    );
}

#[test]
fn unique_names_the_first_row() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            &sales_row("R1"),
            &sales_row("R2"),
            &sales_row(""),
            &sales_row("R1"),
            &sales_row(""), // missing values never repeat
            &sales_row("R1"),
            &sales_row("r2"), // case matters
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:5:receipt_id: unique: \"R1\" repeats the value in row 2",
            "sales.csv:7:receipt_id: unique: \"R1\" repeats the value in row 2",
        ]
    );
    assert_eq!(run.count_of("sales.csv", "unique", "receipt_id"), Some(2));
}

#[test]
fn minimum_is_inclusive() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,1,0,0,EUR,R1",
            "2025-01-05,bread,store,1,0,-1,EUR,R2",
            // net_amount has no minimum: refunds are negative
            "2025-01-05,bread,store,-20.5,0,0,EUR,R3",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:3:transactions: minimum: -1 is below the minimum 0"]
    );
}

#[test]
fn enum_with_a_did_you_mean_hint() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,Bread,store,1,1,1,EUR,R1",
            "2025-01-05,bread,shop,1,1,1,EUR,R2",
            "2025-01-05,bread ,store,1,1,1,EUR,R3",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(
        lines[0],
        "sales.csv:2:category: enum: \"Bread\" is not one of bread, pastry, cakes, savoury, drinks, other (did you mean \"bread\"?)"
    );
    assert_eq!(
        lines[1],
        "sales.csv:3:channel: enum: \"shop\" is not one of store, online, wholesale; if it stands for one of them, map it in a mapping file (--map): [values.channel] \"shop\" = \"...\""
    );
    assert!(
        lines[2].starts_with("sales.csv:4:category: enum: \"bread \" is not one of"),
        "{}",
        lines[2]
    );
    assert_eq!(run.count_of("sales.csv", "enum", "category"), Some(2));
    assert_eq!(run.count_of("sales.csv", "enum", "channel"), Some(1));
}

#[test]
fn pattern() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,1,1,1,eur,R1",
            "2025-01-05,bread,store,1,1,1,EURO,R2",
            "2025-01-05,bread,store,1,1,1,CHF,R3",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:2:currency: pattern: \"eur\" does not match the pattern ^[A-Z]{3}$",
            "sales.csv:3:currency: pattern: \"EURO\" does not match the pattern ^[A-Z]{3}$",
        ]
    );
}

// ---------------------------------------------------------------------------
// Header problems
// ---------------------------------------------------------------------------

#[test]
fn missing_label() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        "date,category,net_amount,units,transactions,currency,receipt_id\n2025-01-05,bread,1,1,1,EUR,R1\n",
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:1:channel: missing-label: the header has no column for field \"channel\": name a column so, or map yours to it in a mapping file (--map)"]
    );
}

#[test]
fn missing_optional_column_is_no_problem() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        "date,category,channel,net_amount,units,transactions,currency\n2025-01-05,bread,store,1,1,1,EUR\n",
    );
    d.write(
        "costs.csv",
        "date,cost_type,amount,currency\n2025-01-05,rent,1,EUR\n",
    );
    let run = d.validate(&["sales.csv", "costs.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (1 row, schema sales.v1)"
    );
    assert_eq!(
        run.summary("costs.csv"),
        "costs.csv: OK (1 row, schema costs.v1)"
    );
}

#[test]
fn extra_label() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        format!("{SALES_HEADER},Filiale\n{},Mitte\n", sales_row("R1")),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:1:Filiale: extra-label: column 9 \"Filiale\" is not a field of schema sales.v1"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("ignore"),
        "should suggest a --map ignore: {}",
        lines[0]
    );
}

#[test]
fn extra_label_that_differs_only_in_case_suggests_the_field() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        "date,category,channel,net_amount,Units,transactions,currency,receipt_id\n2025-01-05,bread,store,1,1,1,EUR,R1\n",
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let extra = run.problems_with_rule("sales.csv", "extra-label");
    assert_eq!(extra.len(), 1, "{}", run.stdout);
    assert!(extra[0].contains("did you mean \"units\"?"), "{}", extra[0]);
    assert_eq!(
        run.problems_with_rule("sales.csv", "missing-label"),
        vec!["sales.csv:1:units: missing-label: the header has no column for field \"units\": name a column so, or map yours to it in a mapping file (--map)"]
    );
}

#[test]
fn duplicate_label() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        "date,category,channel,net_amount,units,units,transactions,currency,receipt_id\n\
         2025-01-05,bread,store,1,1,1,1,EUR,R1\n",
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:1:units: duplicate-label: column 6 \"units\" repeats field \"units\" already in column 5"]
    );
}

#[test]
fn blank_label() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        format!("{SALES_HEADER},\n{},x\n", sales_row("R1")),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:1:column 9: blank-label: column 9 has no header label"]
    );
}

#[test]
fn column_order_may_differ_from_the_schema() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        "receipt_id,currency,units,date,transactions,channel,net_amount,category\n\
         R1,EUR,3,2025-01-05,1,store,12.50,bread\n\
         R2,EUR,1,2025-01-06,1,online,-2.00,cakes\n",
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (2 rows, schema sales.v1)"
    );
}

#[test]
fn shuffled_columns_still_report_the_right_column_and_value() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        "receipt_id,currency,units,date,transactions,channel,net_amount,category\n\
         R1,EUR,3,2025-01-05,1,store,12.50,bread\n\
         R2,EUR,1,2025-01-06,-4,online,-2.00,cakes\n",
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:3:transactions: minimum: -4 is below the minimum 0"]
    );
}

#[test]
fn a_semicolon_file_read_with_commas_hints_at_the_delimiter() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        format!(
            "{}\n{}\n",
            SALES_HEADER.replace(',', ";"),
            sales_row("R1").replace(',', ";")
        ),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let extra = run.problems_with_rule("sales.csv", "extra-label");
    assert_eq!(extra.len(), 1, "{}", run.stdout);
    assert!(extra[0].contains("--delimiter ';'"), "{}", extra[0]);
    // And with the delimiter given, the file is valid.
    d.validate(&["--delimiter", ";", "sales.csv"])
        .expect_code(0);
}

// ---------------------------------------------------------------------------
// Ragged rows, empty files, encodings
// ---------------------------------------------------------------------------

#[test]
fn ragged_rows_name_the_cell_counts() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            &sales_row("R1"),
            "2025-01-05,bread,store,12.50,3,1,EUR",
            "2025-01-05,bread,store,12.50,3,1,EUR,R3,surplus",
            &sales_row("R4"),
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:3: missing-cell: the row has 7 cells, the header has 8",
            "sales.csv:4: extra-cell: the row has 9 cells, the header has 8",
        ]
    );
    assert_eq!(run.count_of("sales.csv", "missing-cell", ""), Some(1));
    assert_eq!(run.count_of("sales.csv", "extra-cell", ""), Some(1));
}

#[test]
fn empty_file() {
    let d = Dir::new();
    d.write("sales.csv", "");
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert_eq!(rule_of(&lines[0]), Some("empty-file"));
    assert!(run
        .summary("sales.csv")
        .starts_with("sales.csv: INVALID (schema sales.v1): 1 problem"));
}

#[test]
fn header_only_file() {
    let d = Dir::new();
    d.write("sales.csv", format!("{SALES_HEADER}\r\n"));
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec!["sales.csv:2: no-data: the file has a header but no data rows"]
    );
    assert!(run
        .summary("sales.csv")
        .starts_with("sales.csv: INVALID (0 rows, schema sales.v1)"));
}

#[test]
fn header_only_file_without_a_final_newline() {
    let d = Dir::new();
    d.write("sales.csv", SALES_HEADER);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(run.problems("sales.csv").len(), 1, "{}", run.stdout);
    assert_eq!(run.problems_with_rule("sales.csv", "no-data").len(), 1);
}

#[test]
fn invalid_utf8_names_the_byte_offset_and_suggests_windows_1252() {
    let d = Dir::new();
    let mut bytes = sales_csv(&[&sales_row("R1")]).into_bytes();
    let line3 = b"2025-01-05,bread,store,12.50,3,1,EUR,Caf".to_vec();
    let offset = bytes.len() + line3.len();
    bytes.extend_from_slice(&line3);
    bytes.push(0xE9); // 'é' in Windows-1252
    bytes.extend_from_slice(b"\n");
    d.write("sales.csv", &bytes);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let line = &lines[0];
    assert!(line.starts_with("sales.csv:3: encoding: "), "{line}");
    assert!(line.contains("0xE9"), "{line}");
    assert!(
        line.contains(&format!("offset {offset}")),
        "expected offset {offset}: {line}"
    );
    assert!(line.contains("--encoding windows-1252"), "{line}");
}

// ---------------------------------------------------------------------------
// Row numbers
// ---------------------------------------------------------------------------

#[test]
fn multi_line_quoted_fields_keep_row_numbers_right() {
    let d = Dir::new();
    // Record 2 (spreadsheet row 2) spans lines 2-4; record 3 is on line 5;
    // record 4 (lines 6-7) is both multi-line and ragged; record 5 on line 8.
    let text = format!(
        "{SALES_HEADER}\n\
         2025-01-05,bread,store,12.50,3,1,EUR,\"R1\nsecond line\nthird line\"\n\
         2025-01-05,bread,store,12.50,-3,1,EUR,R2\n\
         2025-01-05,bread,store,12.50,3,1,EUR,\"R3\n\",extra\n\
         2025-01-05,bread,store,12.50,3,1,XX,R4\n"
    );
    d.write("sales.csv", text);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:3:units: minimum: -3 is below the minimum 0",
            "sales.csv:4: extra-cell: the row has 9 cells, the header has 8",
            "sales.csv:5:currency: pattern: \"XX\" does not match the pattern ^[A-Z]{3}$",
        ]
    );
    assert!(
        run.summary("sales.csv")
            .starts_with("sales.csv: INVALID (4 rows,"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_problem_inside_a_multi_line_record_is_at_its_first_row() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        format!(
            "{SALES_HEADER}\n{}\n2025-01-05,\"bread\nrolls\",store,1,1,1,EUR,R2\n",
            sales_row("R1")
        ),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:3:category: enum: \"bread\\nrolls\""),
        "{}",
        lines[0]
    );
}

#[test]
fn quoted_fields_with_delimiters_and_escaped_quotes_are_one_cell() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,12.50,3,1,EUR,\"R1, \"\"counter\"\"\"",
            "\"2025-01-05\",\"bread\",store,\"-1\",3,1,EUR,R2",
        ]),
    );
    d.validate(&["sales.csv"]).expect_code(0);
}

/// A blank line in the middle of a file is a row as a spreadsheet shows it
/// (Excel and LibreOffice show it as an empty row), so the rows after it keep
/// their spreadsheet numbers, and each rule lands on the row that breaks it.
#[test]
fn a_blank_line_does_not_shift_or_swap_the_rows_after_it() {
    let d = Dir::new();
    // line 1 header, line 2 valid, line 3 blank, line 4 units -1, line 5 short but valid.
    d.write(
        "sales.csv",
        format!(
            "{SALES_HEADER}\n{}\n\n2025-01-05,bread,store,1,-1,1,EUR,R2\n2025-01-05,bread,store,1,5,1,EUR\n",
            sales_row("R1")
        ),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let minimum = run.problems_with_rule("sales.csv", "minimum");
    assert_eq!(
        minimum,
        vec!["sales.csv:4:units: minimum: -1 is below the minimum 0"],
        "the -1 is on line 4\n{}",
        run.stdout
    );
    assert_eq!(
        run.problems_with_rule("sales.csv", "missing-cell"),
        vec!["sales.csv:5: missing-cell: the row has 7 cells, the header has 8"],
        "the short row is on line 5\n{}",
        run.stdout
    );
}

/// A trailing blank line is one blank row, on the row a spreadsheet shows it,
/// and counted among the rows: no problem of any kind (cell, row or file)
/// lands past the last row the summary counts. The line end of the last row
/// alone is no row at all.
#[test]
fn a_trailing_blank_line_yields_no_problem_past_the_counted_rows() {
    let d = Dir::new();
    // Exported with an extra line end, as some tills and hand edits leave it.
    d.write(
        "sales.csv",
        format!(
            "{SALES_HEADER}\r\n{}\r\n{}\r\n\r\n",
            sales_row("R1"),
            sales_row("R2")
        ),
    );
    let run = d.validate(&["--format", "json", "sales.csv"]);
    run.expect_code(1);
    let v = run.json();
    let f = &v["files"][0];
    let rows = f["rows"].as_u64().expect("a row count");
    assert_eq!(rows, 3, "two data rows and the blank one: {}", run.stdout);
    let problems = f["problems"].as_array().unwrap();
    for p in problems {
        let row = p["row"].as_u64().unwrap();
        assert!(
            row <= rows + 1,
            "a problem on row {row}, but the file has {rows} rows (last row {}): {}",
            rows + 1,
            run.stdout
        );
    }
    assert_eq!(problems.len(), 1, "{}", run.stdout);
    assert_eq!(problems[0]["row"], 4, "{}", run.stdout);
    assert_eq!(problems[0]["rule"], "blank-row", "{}", run.stdout);

    // Without the extra line end the same file is valid.
    d.write(
        "sales.csv",
        format!(
            "{SALES_HEADER}\r\n{}\r\n{}\r\n",
            sales_row("R1"),
            sales_row("R2")
        ),
    );
    d.validate(&["sales.csv"]).expect_code(0);
}

// ---------------------------------------------------------------------------
// --max-errors and the summary
// ---------------------------------------------------------------------------

/// A sales file with exactly five problems, in rows 2, 3, 5, 5 and 6.
fn five_problems() -> String {
    sales_csv(&[
        "2025-01-05,bread,store,1,-1,1,EUR,R1",
        "2025-01-05,muffins,store,1,1,1,EUR,R2",
        &sales_row("R3"),
        "2025-01-32,bread,store,1,-2,1,EUR,R4",
        "2025-01-05,bread,store,1,1,1,Euro,R5",
    ])
}

#[test]
fn max_errors_limits_the_lines_but_not_the_count() {
    let d = Dir::new();
    d.write("sales.csv", five_problems());
    let run = d.validate(&["--max-errors", "2", "sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(
        lines,
        vec![
            "sales.csv:2:units: minimum: -1 is below the minimum 0",
            "sales.csv:3:category: enum: \"muffins\" is not one of bread, pastry, cakes, savoury, drinks, other; if it stands for one of them, map it in a mapping file (--map): [values.category] \"muffins\" = \"...\"",
        ]
    );
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: INVALID (5 rows, schema sales.v1): 5 problems, 3 not shown (raise --max-errors to see them)"
    );
    let mut counts = run.counts("sales.csv");
    counts.sort();
    assert_eq!(
        counts,
        vec![
            (1, "enum".to_string(), "category".to_string()),
            (1, "pattern".to_string(), "currency".to_string()),
            (1, "type".to_string(), "date".to_string()),
            (2, "minimum".to_string(), "units".to_string()),
        ]
    );
}

#[test]
fn without_a_limit_every_problem_is_shown() {
    let d = Dir::new();
    d.write("sales.csv", five_problems());
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    let located: Vec<(u64, &str)> = lines
        .iter()
        .map(|l| (row_of(l).unwrap(), rule_of(l).unwrap()))
        .collect();
    assert_eq!(
        located,
        vec![
            (2, "minimum"),
            (3, "enum"),
            (5, "type"),
            (5, "minimum"),
            (6, "pattern")
        ]
    );
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: INVALID (5 rows, schema sales.v1): 5 problems"
    );
}

#[test]
fn max_errors_zero_shows_no_line_but_still_fails() {
    let d = Dir::new();
    d.write("sales.csv", five_problems());
    let run = d.validate(&["--max-errors", "0", "sales.csv"]);
    run.expect_code(1);
    assert!(run.problems("sales.csv").is_empty(), "{}", run.stdout);
    assert!(run
        .summary("sales.csv")
        .ends_with("5 problems, 5 not shown (raise --max-errors to see them)"));
}

/// The shown problems are the first ones in file order, whatever rule found
/// them: a short row early in the file is shown before cell problems later on.
#[test]
fn max_errors_shows_the_first_problems_in_file_order_including_ragged_rows() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-01-05,bread,store,1,1,1,EUR",
            "2025-01-05,bread,store,1,-1,1,EUR,R2",
            "2025-01-05,bread,store,1,-1,1,EUR,R3",
        ]),
    );
    let run = d.validate(&["--max-errors", "2", "sales.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("sales.csv"),
        vec![
            "sales.csv:2: missing-cell: the row has 7 cells, the header has 8",
            "sales.csv:3:units: minimum: -1 is below the minimum 0",
        ]
    );
    assert!(run
        .summary("sales.csv")
        .ends_with("3 problems, 1 not shown (raise --max-errors to see them)"));
}

#[test]
fn max_errors_keeps_header_problems_first() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        format!("{SALES_HEADER},Kasse\n2025-01-05,bread,store,1,-1,1,EUR,R1,3\n2025-01-05,bread,store,1,-1,1,EUR,R2,3\n"),
    );
    let run = d.validate(&["--max-errors", "2", "sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("sales.csv:1:Kasse: extra-label:"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "sales.csv:2:units: minimum: -1 is below the minimum 0"
    );
    assert!(run
        .summary("sales.csv")
        .ends_with("3 problems, 1 not shown (raise --max-errors to see them)"));
}

#[test]
fn max_errors_is_per_file() {
    let d = Dir::new();
    d.write("sales.csv", five_problems());
    d.write("more_sales.csv", five_problems());
    let run = d.validate(&["--max-errors", "1", "sales.csv", "more_sales.csv"]);
    run.expect_code(1);
    assert_eq!(run.problems("sales.csv").len(), 1);
    assert_eq!(run.problems("more_sales.csv").len(), 1);
}

// ---------------------------------------------------------------------------
// --format json
// ---------------------------------------------------------------------------

/// The text line of a JSON problem, as the text output writes it.
fn line_of(p: &Value) -> String {
    let file = p["file"].as_str().unwrap();
    let row = p["row"].as_u64().unwrap();
    let rule = p["rule"].as_str().unwrap();
    let message = p["message"].as_str().unwrap();
    match p["column"].as_str() {
        Some(c) => format!("{file}:{row}:{c}: {rule}: {message}"),
        None => format!("{file}:{row}: {rule}: {message}"),
    }
}

fn assert_problem_shape(p: &Value) {
    let o = p
        .as_object()
        .unwrap_or_else(|| panic!("problem is not an object: {p}"));
    for key in ["file", "row", "column", "rule", "message"] {
        assert!(o.contains_key(key), "problem lacks {key}: {p}");
    }
    assert!(
        p["file"].is_string()
            && p["row"].is_u64()
            && p["rule"].is_string()
            && p["message"].is_string(),
        "{p}"
    );
    assert!(p["column"].is_string() || p["column"].is_null(), "{p}");
}

#[test]
fn json_report_has_the_documented_shape_and_the_same_facts_as_text() {
    let d = Dir::new();
    d.write("sales.csv", five_problems());
    d.write(
        "costs.csv",
        format!("{COSTS_HEADER}\n2025-01-31,rent,1200,EUR,,\n"),
    );
    for max in ["100", "2"] {
        let json_run = d.validate(&[
            "--format",
            "json",
            "--max-errors",
            max,
            "sales.csv",
            "costs.csv",
        ]);
        json_run.expect_code(1);
        let text_run = d.validate(&["--max-errors", max, "sales.csv", "costs.csv"]);
        text_run.expect_code(1);
        let v = json_run.json();
        assert_eq!(v["valid"], Value::Bool(false));
        let files = v["files"].as_array().expect("files is an array");
        assert_eq!(files.len(), 2);

        let sales = &files[0];
        assert_eq!(sales["file"], "sales.csv");
        assert_eq!(sales["schema"], "sales.v1");
        assert_eq!(sales["rows"], 5);
        assert_eq!(sales["valid"], false);
        assert_eq!(sales["problems_total"], 5);
        let problems = sales["problems"].as_array().expect("problems is an array");
        problems.iter().for_each(assert_problem_shape);
        let lines: Vec<String> = problems.iter().map(line_of).collect();
        assert_eq!(lines, text_run.problems("sales.csv"), "max-errors {max}");
        assert_eq!(problems.len(), if max == "2" { 2 } else { 5 });

        let mut counts: Vec<(u64, String, String)> = sales["counts"]
            .as_array()
            .expect("counts is an array")
            .iter()
            .map(|c| {
                (
                    c["count"].as_u64().unwrap(),
                    c["rule"].as_str().unwrap().to_string(),
                    c["column"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let mut text_counts = text_run.counts("sales.csv");
        counts.sort();
        text_counts.sort();
        assert_eq!(counts, text_counts);
        assert_eq!(counts.iter().map(|c| c.0).sum::<u64>(), 5);

        let costs = &files[1];
        assert_eq!(costs["file"], "costs.csv");
        assert_eq!(costs["schema"], "costs.v1");
        assert_eq!(costs["rows"], 1);
        assert_eq!(costs["valid"], true);
        assert_eq!(costs["problems"], Value::Array(vec![]));
        assert_eq!(costs["problems_total"], 0);
        assert_eq!(costs["counts"], Value::Array(vec![]));
    }
}

#[test]
fn json_for_a_valid_file_and_for_file_level_problems() {
    let d = Dir::new();
    d.write("sales.csv", sales_csv(&[&sales_row("R1")]));
    let run = d.validate(&["--format", "json", "sales.csv"]);
    run.expect_code(0);
    let v = run.json();
    assert_eq!(v["valid"], true);
    assert_eq!(v["files"][0]["rows"], 1);
    assert_eq!(v["files"][0]["valid"], true);

    d.write("empty_sales.csv", "");
    let run = d.validate(&["--format", "json", "empty_sales.csv"]);
    run.expect_code(1);
    let v = run.json();
    let f = &v["files"][0];
    assert_eq!(
        f["rows"],
        Value::Null,
        "an unreadable file has no row count"
    );
    assert_eq!(f["problems_total"], 1);
    let p = &f["problems"][0];
    assert_problem_shape(p);
    assert_eq!(p["rule"], "empty-file");
    assert_eq!(p["column"], Value::Null);
    assert_eq!(p["row"], 1);
}

#[test]
fn json_output_is_only_json_even_with_usage_errors_reported_on_stderr() {
    let d = Dir::new();
    let run = d.validate(&["--format", "json", "sales.csv"]);
    run.expect_code(2);
    assert!(run.stdout.trim().is_empty(), "stdout: {}", run.stdout);
}

// ---------------------------------------------------------------------------
// Real-world files
// ---------------------------------------------------------------------------

#[test]
fn utf8_bom_and_crlf() {
    let d = Dir::new();
    let body = format!(
        "\u{feff}{SALES_HEADER}\r\n{}\r\n{}\r\n",
        sales_row("R1"),
        sales_row("R2")
    );
    d.write("sales.csv", body);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (2 rows, schema sales.v1)"
    );

    // The BOM is not part of the first label, and CR is not part of the last cell.
    let body = format!(
        "\u{feff}{SALES_HEADER}\r\n2025-02-30,bread,store,1,1,1,EUR,R1\r\n2025-01-05,bread,store,1,1,1,EUR,R1\r\n"
    );
    d.write("sales.csv", body);
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:2:date: type: \"2025-02-30\""),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "sales.csv:3:receipt_id: unique: \"R1\" repeats the value in row 2"
    );
}

#[test]
fn semicolons_and_decimal_commas() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        format!(
            "{}\n2025-01-05;bread;store;12,50;3;1;EUR;R1\n2025-01-05;cakes;online;-3,75;1;1;EUR;R2\n2025-01-05;cakes;online;7;1;1;EUR;R3\n",
            SALES_HEADER.replace(',', ";")
        ),
    );
    let run = d.validate(&["--delimiter", ";", "--decimal-comma", "sales.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (3 rows, schema sales.v1)"
    );

    // Without --decimal-comma, the decimals are not numbers, and the message says why.
    let run = d.validate(&["--delimiter", ";", "sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:2:net_amount: type: \"12,50\" is not a number"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("--decimal-comma"), "{}", lines[0]);

    // With --decimal-comma, a decimal point is an error.
    d.write(
        "sales.csv",
        format!(
            "{}\n2025-01-05;bread;store;12.50;3;1;EUR;R1\n",
            SALES_HEADER.replace(',', ";")
        ),
    );
    let run = d.validate(&["--delimiter", ";", "--decimal-comma", "sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:2:net_amount: type: \"12.50\" is not a number"),
        "{}",
        lines[0]
    );
}

#[test]
fn tab_separated_files() {
    let d = Dir::new();
    d.write(
        "sales.tsv",
        format!(
            "{}\n{}\n",
            SALES_HEADER.replace(',', "\t"),
            sales_row("R1").replace(',', "\t")
        ),
    );
    let run = d.validate(&["--delimiter", "tab", "sales.tsv"]);
    run.expect_code(0);
}

fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable, "test text must be encodable in Windows-1252");
    bytes.into_owned()
}

#[test]
fn windows_1252_files() {
    let d = Dir::new();
    let text = sales_csv(&[
        &sales_row("R1"),
        &sales_row("Jürgen-1"),
        &sales_row("Café-2"),
        &sales_row("Straße-3"),
    ]);
    let bytes = windows_1252(&text);
    assert_ne!(
        bytes,
        text.as_bytes(),
        "the fixture must not be plain UTF-8"
    );
    d.write("sales.csv", &bytes);

    let run = d.validate(&["--encoding", "windows-1252", "sales.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("sales.csv"),
        "sales.csv: OK (4 rows, schema sales.v1)"
    );
    d.validate(&["--encoding", "latin1", "sales.csv"])
        .expect_code(0);
    d.validate(&["--encoding", "cp1252", "sales.csv"])
        .expect_code(0);

    // Without the flag: exactly one encoding problem, at the first non-ASCII byte.
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let offset = text.find('ü').unwrap();
    assert!(
        lines[0].starts_with("sales.csv:3: encoding: not valid UTF-8: byte 0xFC"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(&format!("offset {offset}")),
        "expected offset {offset}: {}",
        lines[0]
    );
    assert!(lines[0].contains("--encoding windows-1252"), "{}", lines[0]);
    assert_eq!(run.count_of("sales.csv", "encoding", ""), Some(1));
    assert!(
        run.summary("sales.csv").ends_with(": 1 problem"),
        "{}",
        run.stdout
    );
}

#[test]
fn windows_1252_values_are_decoded_in_messages() {
    let d = Dir::new();
    let text = sales_csv(&[
        "2025-01-05,Brötchen,store,1,1,1,EUR,R1",
        &sales_row("Café"),
        &sales_row("Café"),
    ]);
    d.write("sales.csv", windows_1252(&text));
    let run = d.validate(&["--encoding", "windows-1252", "sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with("sales.csv:2:category: enum: \"Brötchen\" is not one of"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines[1],
        "sales.csv:4:receipt_id: unique: \"Café\" repeats the value in row 3"
    );
}

const GERMAN_MAPPING: &str = r#"
# Kassensystem-Export -> coopbench sales
date_format = "%d.%m.%Y"
ignore = ["Kassierer"]

[columns]
"Datum" = "date"
"Warengruppe" = "category"
"Kanal" = "channel"
"Nettobetrag" = "net_amount"
"Stück" = "units"
"Bons" = "transactions"
"Währung" = "currency"
"Bonnummer" = "receipt_id"
"#;

const GERMAN_HEADER: &str =
    "Datum;Kassierer;Warengruppe;Kanal;Nettobetrag;Stück;Bons;Währung;Bonnummer";

#[test]
fn a_mapping_file_for_german_headers() {
    let d = Dir::new();
    d.write("mapping.toml", GERMAN_MAPPING);
    d.write(
        "kasse_sales.csv",
        format!(
            "{GERMAN_HEADER}\n05.01.2025;Jürgen;bread;store;12,50;3;1;EUR;B1\n31.01.2025;Anna;cakes;online;-3,75;1;1;EUR;B2\n"
        ),
    );
    let args = [
        "--map",
        "mapping.toml",
        "--delimiter",
        ";",
        "--decimal-comma",
        "kasse_sales.csv",
    ];
    let run = d.validate(&args);
    run.expect_code(0);
    assert_eq!(
        run.summary("kasse_sales.csv"),
        "kasse_sales.csv: OK (2 rows, schema sales.v1)"
    );

    // Problems are reported under the schema's field names, and dates are read
    // with the mapping's format (so ISO dates and impossible dates fail).
    d.write(
        "kasse_sales.csv",
        format!(
            "{GERMAN_HEADER}\n2025-01-05;Jürgen;bread;store;12,50;3;1;EUR;B1\n31.02.2025;Anna;cakes;online;-3,75;-1;1;EUR;B2\n"
        ),
    );
    let run = d.validate(&args);
    run.expect_code(1);
    let lines = run.problems("kasse_sales.csv");
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[0].starts_with("kasse_sales.csv:2:date: type: \"2025-01-05\" is not a valid date in the format %d.%m.%Y"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("kasse_sales.csv:3:date: type: \"31.02.2025\""),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "kasse_sales.csv:3:units: minimum: -1 is below the minimum 0"
    );
}

#[test]
fn a_mapping_file_without_ignore_leaves_the_extra_column_an_error() {
    let d = Dir::new();
    d.write(
        "mapping.toml",
        GERMAN_MAPPING.replace("ignore = [\"Kassierer\"]", ""),
    );
    d.write(
        "kasse_sales.csv",
        format!("{GERMAN_HEADER}\n05.01.2025;Jürgen;bread;store;12,50;3;1;EUR;B1\n"),
    );
    let run = d.validate(&[
        "--map",
        "mapping.toml",
        "--delimiter",
        ";",
        "--decimal-comma",
        "kasse_sales.csv",
    ]);
    run.expect_code(1);
    let lines = run.problems("kasse_sales.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("kasse_sales.csv:1:Kassierer: extra-label:"),
        "{}",
        lines[0]
    );
}

#[test]
fn a_mapped_column_missing_from_the_file_names_the_expected_label() {
    let d = Dir::new();
    d.write("mapping.toml", GERMAN_MAPPING);
    d.write(
        "kasse_sales.csv",
        "Datum;Kassierer;Warengruppe;Kanal;Nettobetrag;Stück;Währung;Bonnummer\n05.01.2025;Jürgen;bread;store;12,50;3;EUR;B1\n",
    );
    let run = d.validate(&[
        "--map",
        "mapping.toml",
        "--delimiter",
        ";",
        "--decimal-comma",
        "kasse_sales.csv",
    ]);
    run.expect_code(1);
    assert_eq!(
        run.problems("kasse_sales.csv"),
        vec![
            "kasse_sales.csv:1:transactions: missing-label: the header has no column for field \"transactions\" \
             (the mapping expects it in a column labelled \"Bons\")"
        ]
    );
}

#[test]
fn costs_schema() {
    let d = Dir::new();
    d.write(
        "costs.csv",
        format!(
            "{COSTS_HEADER}\n\
             2025-01-31,rent,1200,EUR,Hausverwaltung Schmidt,INV-1\n\
             2025-01-31,energy,310.40,EUR,,INV-2\n\
             2025-01-31,wages,0,EUR,,\n\
             2025-01-31,cogs,25,EUR,Mühle,\n"
        ),
    );
    let run = d.validate(&["costs.csv"]);
    run.expect_code(0);
    assert_eq!(
        run.summary("costs.csv"),
        "costs.csv: OK (4 rows, schema costs.v1)"
    );

    d.write(
        "costs.csv",
        format!(
            "{COSTS_HEADER}\n\
             2025-01-31,rent,-1200,EUR,,INV-1\n\
             2025-01-31,food,10,EUR,,INV-2\n\
             2025-01-31,Rent,10,EUR,,INV-1\n\
             2025-01-31,other,,EUR,,\n"
        ),
    );
    let run = d.validate(&["costs.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("costs.csv"),
        vec![
            "costs.csv:2:amount: minimum: -1200 is below the minimum 0",
            "costs.csv:3:cost_type: enum: \"food\" is not one of cogs, rent, wages, energy, marketing, other; if it stands for one of them, map it in a mapping file (--map): [values.cost_type] \"food\" = \"...\"",
            "costs.csv:4:cost_type: enum: \"Rent\" is not one of cogs, rent, wages, energy, marketing, other (did you mean \"rent\"?)",
            "costs.csv:4:invoice_id: unique: \"INV-1\" repeats the value in row 2",
            "costs.csv:5:amount: required: a value is required but the cell is empty",
        ]
    );
}

// ---------------------------------------------------------------------------
// A custom --schema
// ---------------------------------------------------------------------------

const CUSTOM_SCHEMA: &str = r#"{
  "fields": [
    {"name": "date", "type": "date", "constraints": {"maximum": "2025-12-31"}},
    {"name": "category", "type": "string"},
    {"name": "code", "type": "string", "constraints": {"minLength": 2, "maxLength": 4}},
    {"name": "share", "type": "number", "constraints": {"minimum": 0, "maximum": 1}},
    {"name": "staff", "type": "integer", "constraints": {"maximum": 10}},
    {"name": "open", "type": "boolean"},
    {"name": "note", "type": "string", "constraints": {"required": true}}
  ],
  "missingValues": ["", "NA"],
  "primaryKey": ["date", "category"]
}"#;

const CUSTOM_HEADER: &str = "date,category,code,share,staff,open,note";

fn custom(rows: &[&str]) -> (Dir, Vec<String>, String) {
    let d = Dir::new();
    d.write("schema.json", CUSTOM_SCHEMA);
    let mut text = format!("{CUSTOM_HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    d.write("shop.csv", text);
    let run = d.validate(&["--schema", "schema.json", "shop.csv"]);
    let lines = run.problems("shop.csv");
    let stdout = run.stdout.clone();
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    (d, lines, stdout)
}

#[test]
fn custom_schema_valid_file() {
    let d = Dir::new();
    d.write("schema.json", CUSTOM_SCHEMA);
    d.write(
        "shop.csv",
        format!("{CUSTOM_HEADER}\n2025-01-01,bread,AB,0,0,true,x\n2025-01-01,cakes,ABCD,1,10,false,y\n2025-01-02,bread,NA,NA,NA,NA,z\n"),
    );
    let run = d.validate(&["--schema", "schema.json", "shop.csv"]);
    run.expect_code(0);
    // The schema has no coopbench:id, so reports name it by its path.
    assert_eq!(
        run.summary("shop.csv"),
        "shop.csv: OK (3 rows, schema schema.json)"
    );
}

#[test]
fn composite_primary_key() {
    let (_d, lines, stdout) = custom(&[
        "2025-01-01,bread,AB,0,0,true,x",
        "2025-01-01,cakes,AB,0,0,true,x", // differs in category: fine
        "2025-01-02,bread,AB,0,0,true,x", // differs in date: fine
        "2025-01-01,bread,AB,0,0,true,x", // repeats row 2's key
    ]);
    let pk: Vec<&String> = lines
        .iter()
        .filter(|l| rule_of(l) == Some("primaryKey"))
        .collect();
    assert_eq!(pk.len(), 1, "{stdout}");
    assert_eq!(row_of(pk[0]), Some(5), "{stdout}");
    assert!(pk[0].contains("repeats the key in row 2"), "{}", pk[0]);
    assert!(
        pk[0].contains("2025-01-01") && pk[0].contains("bread"),
        "{}",
        pk[0]
    );
    assert_eq!(lines.len(), 1, "{stdout}");
}

#[test]
fn composite_primary_key_parts_must_be_present() {
    let (_d, lines, stdout) = custom(&["2025-01-01,,AB,0,0,true,x", "NA,bread,AB,0,0,true,x"]);
    let pk: Vec<u64> = lines
        .iter()
        .filter(|l| rule_of(l) == Some("primaryKey"))
        .filter_map(|l| row_of(l))
        .collect();
    assert_eq!(pk, vec![2, 3], "{stdout}");
    assert!(
        lines[0].starts_with("shop.csv:2:category: primaryKey:"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("shop.csv:3:date: primaryKey:"),
        "{}",
        lines[1]
    );
}

#[test]
fn composite_key_parts_do_not_run_together() {
    // Keys whose parts, joined with any separator (or none), give the same
    // text: ("a", "bc") and ("ab", "c"); ("a\u{1f}b", "c") and ("a", "b\u{1f}c");
    // ("a|b", "c") and ("a", "b|c"). None of them repeats another, and a true
    // repeat after them (row 8 repeats row 5) is still found and named.
    let d = Dir::new();
    d.write(
        "schema.json",
        r#"{"fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}],
            "primaryKey": ["a", "b"]}"#,
    );
    d.write(
        "keys.csv",
        "a,b\na,bc\nab,c\na\u{1f}b,c\na,b\u{1f}c\na|b,c\na,b|c\na,b\u{1f}c\n",
    );
    let run = d.validate(&["--schema", "schema.json", "keys.csv"]);
    let pk: Vec<String> = run
        .problems("keys.csv")
        .into_iter()
        .filter(|l| rule_of(l) == Some("primaryKey"))
        .collect();
    assert_eq!(pk.len(), 1, "{}", run.stdout);
    assert_eq!(row_of(&pk[0]), Some(8), "{}", run.stdout);
    assert!(pk[0].contains("repeats the key in row 5"), "{}", pk[0]);
}

#[test]
fn min_and_max_length() {
    let (_d, lines, stdout) = custom(&[
        "2025-01-01,a,A,0,0,true,x",
        "2025-01-02,a,ABCDE,0,0,true,x",
        "2025-01-03,a,ÄÖÜß,0,0,true,x", // four characters, eight bytes: fine
    ]);
    assert_eq!(
        lines,
        vec![
            "shop.csv:2:code: minLength: \"A\" is shorter than 2 characters",
            "shop.csv:3:code: maxLength: \"ABCDE\" is longer than 4 characters",
        ],
        "{stdout}"
    );
}

#[test]
fn maximum_for_numbers_integers_and_dates() {
    let (_d, lines, stdout) = custom(&[
        "2025-12-31,a,AB,1,10,true,x",
        "2026-01-01,a,AB,1.01,11,true,x",
    ]);
    assert_eq!(
        lines,
        vec![
            "shop.csv:3:date: maximum: 2026-01-01 is above the maximum 2025-12-31",
            "shop.csv:3:share: maximum: 1.01 is above the maximum 1",
            "shop.csv:3:staff: maximum: 11 is above the maximum 10",
        ],
        "{stdout}"
    );
}

#[test]
fn boolean_default_true_and_false_values() {
    let rows: Vec<String> = [
        "true", "True", "TRUE", "1", "false", "False", "FALSE", "0", "yes", "tRuE", "2",
    ]
    .iter()
    .enumerate()
    .map(|(i, b)| format!("2025-01-{:02},a,AB,0,0,{b},x", i + 1))
    .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let (_d, lines, stdout) = custom(&rows);
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("shop.csv:10:open: type: \"yes\" is not a boolean"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("shop.csv:11:open: type: \"tRuE\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("shop.csv:12:open: type: \"2\""),
        "{}",
        lines[2]
    );
}

#[test]
fn boolean_custom_true_and_false_values() {
    let d = Dir::new();
    d.write(
        "schema.json",
        r#"{"fields":[{"name":"open","type":"boolean","trueValues":["ja"],"falseValues":["nein"]}]}"#,
    );
    d.write("shop.csv", "open\nja\nnein\ntrue\n");
    let run = d.validate(&["--schema", "schema.json", "shop.csv"]);
    run.expect_code(1);
    let lines = run.problems("shop.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("shop.csv:4:open: type: \"true\" is not a boolean"),
        "{}",
        lines[0]
    );
}

#[test]
fn missing_values_na_counts_as_missing() {
    let (_d, lines, stdout) = custom(&[
        "2025-01-01,a,NA,NA,NA,NA,NA", // note is required: NA fails it; the optional NAs pass
        "2025-01-02,a,AB,0,0,true,",   // empty is still missing
        "2025-01-03,a,AB,0,0,true,n/a", // not in missingValues: a value
    ]);
    assert_eq!(
        lines,
        vec![
            "shop.csv:2:note: required: a value is required but the cell is empty",
            "shop.csv:3:note: required: a value is required but the cell is empty",
        ],
        "{stdout}"
    );
}

#[test]
fn without_missing_values_na_is_a_value() {
    let d = Dir::new();
    d.write("schema.json", r#"{"fields":[{"name":"n","type":"integer"},{"name":"s","constraints":{"required":true}}]}"#);
    d.write("shop.csv", "n,s\nNA,NA\n,x\n");
    let run = d.validate(&["--schema", "schema.json", "shop.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("shop.csv"),
        vec!["shop.csv:2:n: type: \"NA\" is not a whole number"]
    );
}

#[test]
fn enum_on_an_integer_field_compares_numbers() {
    let d = Dir::new();
    d.write(
        "schema.json",
        r#"{"fields":[{"name":"size","type":"integer","constraints":{"enum":[1,2,3]}}]}"#,
    );
    d.write("shop.csv", "size\n1\n3\n4\n");
    let run = d.validate(&["--schema", "schema.json", "shop.csv"]);
    run.expect_code(1);
    let lines = run.problems("shop.csv");
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    assert!(
        lines[0].starts_with("shop.csv:4:size: enum: \"4\" is not one of 1, 2, 3"),
        "{}",
        lines[0]
    );
}

#[test]
fn date_minimum_and_custom_format_in_the_schema() {
    let d = Dir::new();
    d.write(
        "schema.json",
        r#"{"fields":[{"name":"day","type":"date","format":"%d/%m/%Y","constraints":{"minimum":"2025-01-01"}}]}"#,
    );
    d.write("shop.csv", "day\n01/01/2025\n31/12/2024\n2025-01-02\n");
    let run = d.validate(&["--schema", "schema.json", "shop.csv"]);
    run.expect_code(1);
    let lines = run.problems("shop.csv");
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(
        lines[0],
        "shop.csv:3:day: minimum: 31/12/2024 is below the minimum 2025-01-01"
    );
    assert!(lines[1].starts_with(
        "shop.csv:4:day: type: \"2025-01-02\" is not a valid date in the format %d/%m/%Y"
    ));
}

// ---------------------------------------------------------------------------
// Where the spec and a popular validator disagree, we follow the spec
// ---------------------------------------------------------------------------

/// The Table Schema spec says a date field's default format is exactly
/// `YYYY-MM-DD` (RFC 3339 full-date, zero-padded). frictionless-py parses it
/// with Python's `strptime("%Y-%m-%d")`, which also accepts `2025-1-5`. We
/// follow the spec: an unpadded date is a `type` error, because `2025-1-5` in
/// a file usually means a spreadsheet reformatted the column, and other dates
/// in it may then be ambiguous.
#[test]
fn spec_default_date_format_is_strictly_yyyy_mm_dd() {
    let d = Dir::new();
    d.write(
        "sales.csv",
        sales_csv(&[
            "2025-1-5,bread,store,1,1,1,EUR,R1",
            "2025-01-5,bread,store,1,1,1,EUR,R2",
            "25-01-05,bread,store,1,1,1,EUR,R3",
            "2025-01-05,bread,store,1,1,1,EUR,R4",
        ]),
    );
    let run = d.validate(&["sales.csv"]);
    run.expect_code(1);
    let lines = run.problems("sales.csv");
    let located: Vec<(u64, &str)> = lines
        .iter()
        .map(|l| (row_of(l).unwrap(), rule_of(l).unwrap()))
        .collect();
    assert_eq!(
        located,
        vec![(2, "type"), (3, "type"), (4, "type")],
        "{}",
        run.stdout
    );
    assert!(
        lines[0].starts_with("sales.csv:2:date: type: \"2025-1-5\""),
        "{}",
        lines[0]
    );
}

/// Table Schema patterns follow XML Schema regular expressions, which are
/// implicitly anchored: the pattern must match the whole value, not a
/// substring. So `[A-Z]{3}` rejects `EURO` (a search-style `re.search` would
/// find `EUR` inside it and accept it).
#[test]
fn spec_patterns_are_implicitly_anchored() {
    let d = Dir::new();
    d.write(
        "schema.json",
        r#"{"fields":[{"name":"currency","constraints":{"pattern":"[A-Z]{3}"}}]}"#,
    );
    d.write("prices.csv", "currency\nEUR\nEURO\nxEUR\nCHF\n");
    let run = d.validate(&["--schema", "schema.json", "prices.csv"]);
    run.expect_code(1);
    assert_eq!(
        run.problems("prices.csv"),
        vec![
            "prices.csv:3:currency: pattern: \"EURO\" does not match the pattern [A-Z]{3}",
            "prices.csv:4:currency: pattern: \"xEUR\" does not match the pattern [A-Z]{3}",
        ]
    );
}

/// An alternation is anchored as a whole: `EUR|CHF` must not accept `EURO`
/// (a naive `^EUR|CHF$` would).
#[test]
fn spec_anchoring_covers_alternations() {
    let d = Dir::new();
    d.write(
        "schema.json",
        r#"{"fields":[{"name":"currency","constraints":{"pattern":"EUR|CHF"}}]}"#,
    );
    d.write("prices.csv", "currency\nEUR\nCHF\nEURO\nXCHF\n");
    let run = d.validate(&["--schema", "schema.json", "prices.csv"]);
    run.expect_code(1);
    let rows: Vec<u64> = run
        .problems("prices.csv")
        .iter()
        .filter_map(|l| row_of(l))
        .collect();
    assert_eq!(rows, vec![4, 5], "{}", run.stdout);
}
