//! The validation library on small files: types, rules, schema errors, encodings.

use coopbench_schema::{
    builtin, validate, Encoding, FileReport, Mapping, ReadOptions, TableSchema,
};
use std::path::PathBuf;

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn check(schema: &TableSchema, body: &str) -> FileReport {
    check_with(schema, body.as_bytes(), &ReadOptions::default())
}

fn check_with(schema: &TableSchema, bytes: &[u8], opts: &ReadOptions) -> FileReport {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "data.csv", bytes);
    validate(&p, schema, opts, 1000).unwrap()
}

/// (row, column, rule) of every problem shown.
fn found(r: &FileReport) -> Vec<(u64, String, String)> {
    r.problems
        .iter()
        .map(|p| (p.row, p.column.clone().unwrap_or_default(), p.rule.clone()))
        .collect()
}

fn one_field(json_field: &str) -> TableSchema {
    let text = format!(r#"{{"fields": [{json_field}, {{"name": "id", "type": "string"}}]}}"#);
    TableSchema::from_json("test", &text).unwrap()
}

fn rows_of(schema: &TableSchema, values: &[&str]) -> FileReport {
    let mut body = String::from("v,id\n");
    for (i, v) in values.iter().enumerate() {
        body.push_str(&format!("{v},{i}\n"));
    }
    check(schema, &body)
}

fn bad_rows(r: &FileReport, rule: &str) -> Vec<u64> {
    r.problems
        .iter()
        .filter(|p| p.rule == rule)
        .map(|p| p.row)
        .collect()
}

#[test]
fn integer_type_accepts_signed_whole_numbers_only() {
    let s = one_field(r#"{"name": "v", "type": "integer"}"#);
    let r = rows_of(
        &s,
        &[
            "1",
            "-2",
            "+3",
            "007",
            "1.0",
            "1e3",
            "x",
            " 4",
            "99999999999999999999",
        ],
    );
    assert_eq!(bad_rows(&r, "type"), vec![6, 7, 8, 9, 10]);
    assert!(r.problems.last().unwrap().message.contains("64-bit"));
}

#[test]
fn number_type_follows_the_spec_including_special_values() {
    let s = one_field(r#"{"name": "v", "type": "number"}"#);
    let r = rows_of(
        &s,
        &[
            "1", "-2.5", ".5", "3.", "1e-3", "NaN", "INF", "-INF", "\"1,5\"", "abc", "1.2.3", "inf",
        ],
    );
    assert_eq!(bad_rows(&r, "type"), vec![10, 11, 12, 13]);
}

#[test]
fn decimal_comma_numbers() {
    let s = TableSchema::from_json(
        "t",
        r#"{"fields": [{"name": "v", "type": "number", "constraints": {"minimum": 0}}, {"name": "id"}]}"#,
    )
    .unwrap();
    let opts = ReadOptions {
        delimiter: b';',
        decimal_comma: true,
        ..ReadOptions::default()
    };
    let r = check_with(&s, b"v;id\n12,50;a\n-0,5;b\n1.5;c\n", &opts);
    assert_eq!(
        found(&r),
        vec![
            (3, "v".into(), "minimum".into()),
            (4, "v".into(), "type".into())
        ]
    );
}

#[test]
fn dates_default_explicit_and_any() {
    let s = one_field(r#"{"name": "v", "type": "date"}"#);
    let r = rows_of(
        &s,
        &[
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-1-05",
            "05.01.2024",
            "2024-01-05T00:00",
        ],
    );
    assert_eq!(bad_rows(&r, "type"), vec![3, 4, 5, 6, 7]);
    let s = one_field(r#"{"name": "v", "type": "date", "format": "%d.%m.%Y"}"#);
    let r = rows_of(&s, &["05.01.2024", "31.04.2024", "2024-01-05"]);
    assert_eq!(bad_rows(&r, "type"), vec![3, 4]);
    let s = one_field(r#"{"name": "v", "type": "date", "format": "any"}"#);
    let r = rows_of(&s, &["05.01.2024", "2024-01-05", "2024/01/05", "yesterday"]);
    assert_eq!(bad_rows(&r, "type"), vec![5]);
}

#[test]
fn date_bounds_compare_as_dates() {
    let s = one_field(
        r#"{"name": "v", "type": "date", "constraints": {"minimum": "2024-01-01", "maximum": "2024-12-31"}}"#,
    );
    let r = rows_of(
        &s,
        &["2023-12-31", "2024-01-01", "2024-12-31", "2025-01-01"],
    );
    assert_eq!(bad_rows(&r, "minimum"), vec![2]);
    assert_eq!(bad_rows(&r, "maximum"), vec![5]);
}

#[test]
fn booleans_with_default_and_custom_values() {
    let s = one_field(r#"{"name": "v", "type": "boolean"}"#);
    let r = rows_of(&s, &["true", "False", "1", "0", "yes", "TRUE"]);
    assert_eq!(bad_rows(&r, "type"), vec![6]);
    let s = one_field(
        r#"{"name": "v", "type": "boolean", "trueValues": ["ja"], "falseValues": ["nein"]}"#,
    );
    let r = rows_of(&s, &["ja", "nein", "true"]);
    assert_eq!(bad_rows(&r, "type"), vec![4]);
}

#[test]
fn string_constraints() {
    let s = one_field(
        r#"{"name": "v", "type": "string", "constraints": {"minLength": 2, "maxLength": 3, "pattern": "[a-zé]+", "enum": ["ab", "abc", "abcd", "x", "ABC", "é1"]}}"#,
    );
    let r = rows_of(&s, &["ab", "abc", "x", "abcd", "ABC", "zz", "é1"]);
    assert_eq!(bad_rows(&r, "minLength"), vec![4]);
    assert_eq!(bad_rows(&r, "maxLength"), vec![5]);
    // The pattern is anchored: "é1" contains a match but is not one.
    assert_eq!(bad_rows(&r, "pattern"), vec![6, 8]);
    assert_eq!(bad_rows(&r, "enum"), vec![7]);
}

#[test]
fn length_counts_characters_not_bytes() {
    let s = one_field(r#"{"name": "v", "type": "string", "constraints": {"maxLength": 4}}"#);
    let r = rows_of(&s, &["Café", "Cafés"]);
    assert_eq!(bad_rows(&r, "maxLength"), vec![3]);
}

#[test]
fn integer_enum_compares_numbers() {
    let s = one_field(r#"{"name": "v", "type": "integer", "constraints": {"enum": [1, 2]}}"#);
    let r = rows_of(&s, &["1", "+2", "02", "3"]);
    assert_eq!(bad_rows(&r, "enum"), vec![5]);
}

#[test]
fn required_and_missing_values() {
    let s = TableSchema::from_json(
        "t",
        r#"{"fields": [{"name": "v", "type": "integer", "constraints": {"required": true}}, {"name": "w", "type": "integer"}],
            "missingValues": ["", "NA", "-"]}"#,
    )
    .unwrap();
    let r = check(&s, "v,w\n1,NA\nNA,1\n,-\n-,x\n");
    assert_eq!(
        found(&r),
        vec![
            (3, "v".into(), "required".into()),
            (4, "v".into(), "required".into()),
            (5, "v".into(), "required".into()),
            (5, "w".into(), "type".into())
        ]
    );
}

#[test]
fn unique_ignores_missing_values_and_names_the_first_row() {
    let s = one_field(r#"{"name": "v", "type": "string", "constraints": {"unique": true}}"#);
    let r = rows_of(&s, &["a", "", "b", "a", "", "a"]);
    assert_eq!(bad_rows(&r, "unique"), vec![5, 7]);
    assert!(
        r.problems[0].message.contains("row 2"),
        "{}",
        r.problems[0].message
    );
    assert_eq!(r.problems_total, 2);
}

#[test]
fn composite_primary_key() {
    let s = TableSchema::from_json(
        "t",
        r#"{"fields": [{"name": "a"}, {"name": "b"}, {"name": "c"}], "primaryKey": ["a", "b"]}"#,
    )
    .unwrap();
    // "x|y" vs "x","y|": the separator cannot be forged by values.
    let r = check(&s, "a,b,c\n1,2,x\n1,3,x\n1,2,y\n,2,z\n");
    assert_eq!(
        found(&r),
        vec![
            (4, "a".into(), "primaryKey".into()),
            (5, "a".into(), "primaryKey".into())
        ]
    );
    assert!(r.problems[0].message.contains("row 2"));
}

#[test]
fn header_problems() {
    let s = builtin("costs").unwrap();
    let r = check(
        &s,
        "amount,date,cost_type,,Currency,invoice_id,amount\n1,2025-01-01,rent,x,EUR,i,2\n",
    );
    let rules: Vec<(String, String)> = r
        .problems
        .iter()
        .filter(|p| p.row == 1)
        .map(|p| (p.rule.clone(), p.column.clone().unwrap()))
        .collect();
    assert!(rules.contains(&("blank-label".into(), "column 4".into())));
    assert!(rules.contains(&("extra-label".into(), "Currency".into())));
    assert!(rules.contains(&("duplicate-label".into(), "amount".into())));
    assert!(rules.contains(&("missing-label".into(), "currency".into())));
    // supplier is optional (and never shareable): it may be absent.
    assert!(!rules.iter().any(|(_, c)| c == "supplier"), "{rules:?}");
    let hint = r.problems.iter().find(|p| p.rule == "extra-label").unwrap();
    assert!(
        hint.message.contains("did you mean \"currency\""),
        "{}",
        hint.message
    );
}

#[test]
fn wrong_delimiter_gets_a_hint() {
    let s = builtin("costs").unwrap();
    let r = check(
        &s,
        "date;cost_type;amount;currency;supplier;invoice_id\n2025-01-01;rent;1;EUR;;\n",
    );
    assert!(r
        .problems
        .iter()
        .any(|p| p.message.contains("--delimiter ';'")));
}

#[test]
fn ragged_rows_are_reported_once_and_not_cell_checked() {
    let s = builtin("costs").unwrap();
    let r = check(
        &s,
        "date,cost_type,amount,currency,supplier,invoice_id\n2025-01-01,rent\n2025-01-01,rent,1,EUR,,i,extra\n2025-01-01,bogus,1,EUR,,j\n",
    );
    assert_eq!(
        found(&r),
        vec![
            (2, String::new(), "missing-cell".into()),
            (3, String::new(), "extra-cell".into()),
            (4, "cost_type".into(), "enum".into())
        ]
    );
    assert!(r.problems[0].message.contains("2 cells"));
}

#[test]
fn embedded_newlines_keep_spreadsheet_rows() {
    let s = one_field(r#"{"name": "v", "type": "integer"}"#);
    let r = check(&s, "v,id\n1,\"a\nb\nc\"\nx,\"d\r\ne\"\ny,f\n");
    assert_eq!(bad_rows(&r, "type"), vec![3, 4]);
    assert_eq!(r.rows, Some(3));
}

#[test]
fn invalid_utf8_gives_one_problem_with_offset_and_hint() {
    let s = builtin("costs").unwrap();
    let mut bytes = b"date,cost_type,amount,currency,supplier,invoice_id\n".to_vec();
    for _ in 0..50 {
        bytes.extend_from_slice(b"2025-01-01,cogs,1,EUR,M\xfcller,\n");
    }
    let r = check_with(&s, &bytes, &ReadOptions::default());
    assert_eq!(r.problems.len(), 1);
    let p = &r.problems[0];
    assert_eq!((p.rule.as_str(), p.row), ("encoding", 2));
    assert!(p.message.contains("offset 74"), "{}", p.message);
    assert!(p.message.contains("--encoding windows-1252"));
}

#[test]
fn multibyte_characters_split_across_read_chunks_are_valid() {
    // The encoding pass reads 1 MiB at a time: put a 2-byte character across the boundary.
    let s = one_field(r#"{"name": "v", "type": "string"}"#);
    let mut body = b"v,id\n".to_vec();
    let line_len = 1 << 20;
    let pad = line_len - body.len() - 1;
    body.extend(std::iter::repeat_n(b'a', pad));
    body.extend_from_slice("é,1\n".as_bytes());
    let r = check_with(&s, &body, &ReadOptions::default());
    assert!(r.valid, "{:?}", r.problems);
    // ... and a truncated sequence at the very end is reported.
    body.push(0xc3);
    let r = check_with(&s, &body, &ReadOptions::default());
    assert_eq!(r.problems[0].rule, "encoding");
}

#[test]
fn windows_1252_is_transcoded() {
    let s = one_field(
        r#"{"name": "v", "type": "string", "constraints": {"enum": ["Café", "Müller €"]}}"#,
    );
    let (bytes, _, _) = encoding_rs_free_encode("v,id\nCafé,1\nMüller €,2\n");
    for enc in [Encoding::Windows1252, Encoding::Latin1] {
        let opts = ReadOptions {
            encoding: enc,
            ..ReadOptions::default()
        };
        let r = check_with(&s, &bytes, &opts);
        assert!(r.valid, "{enc:?}: {:?}", r.problems);
    }
}

/// Windows-1252 encoding of a string with only Latin-1 letters and the euro sign.
fn encoding_rs_free_encode(s: &str) -> (Vec<u8>, (), ()) {
    let bytes = s
        .chars()
        .map(|c| match c {
            '€' => 0x80,
            c if (c as u32) < 256 => c as u32 as u8,
            _ => panic!("not in Windows-1252: {c}"),
        })
        .collect();
    (bytes, (), ())
}

#[test]
fn empty_blank_and_header_only_files() {
    let s = builtin("sales").unwrap();
    assert_eq!(check(&s, "").problems[0].rule, "empty-file");
    assert_eq!(check(&s, "\n\n").problems[0].rule, "empty-file");
    let r = check(
        &s,
        "date,category,channel,net_amount,units,transactions,currency,receipt_id\n",
    );
    assert_eq!(found(&r), vec![(2, String::new(), "no-data".into())]);
    assert_eq!(r.rows, Some(0));
}

#[test]
fn counts_include_problems_past_the_display_limit() {
    let s = one_field(r#"{"name": "v", "type": "integer", "constraints": {"minimum": 0}}"#);
    let values: Vec<String> = (0..500).map(|i| format!("-{i}")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let mut body = String::from("v,id\n");
    for (i, v) in refs.iter().enumerate() {
        body.push_str(&format!("{v},{i}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "d.csv", body.as_bytes());
    let r = validate(&p, &s, &ReadOptions::default(), 7).unwrap();
    assert_eq!(r.problems.len(), 7);
    assert_eq!(r.problems_total, 499);
    assert_eq!(r.counts[0].count, 499);
    assert_eq!(r.problems[0].row, 3);
}

#[test]
fn schema_documents_are_checked() {
    let bad = [
        r#"{"fields": [{"name": "a", "type": "geopoint"}]}"#,
        r#"{"fields": [{"name": "a", "type": "string", "constraints": {"minimum": 1}}]}"#,
        r#"{"fields": [{"name": "a", "type": "string", "constraints": {"pattern": "("}}]}"#,
        r#"{"fields": [{"name": "a"}, {"name": "a"}]}"#,
        r#"{"fields": [{"name": "a"}], "primaryKey": ["b"]}"#,
        r#"{"fields": []}"#,
        r#"{"fields": [{"name": "a", "constraints": {"requird": true}}]}"#,
        r#"not json"#,
    ];
    for text in bad {
        assert!(
            TableSchema::from_json("t", text).is_err(),
            "accepted: {text}"
        );
    }
}

#[test]
fn published_schemas_load_and_mark_supplier_unshareable() {
    let sales = builtin("sales").unwrap();
    assert_eq!(sales.name, "sales.v1");
    assert_eq!(sales.fields.len(), 8);
    let costs = builtin("costs").unwrap();
    assert!(!costs.field("supplier").unwrap().shareable);
    assert!(costs.field("amount").unwrap().shareable);
    assert!(builtin("invoices").is_err());
}

#[test]
fn optional_fields_may_be_absent_required_ones_may_not() {
    let costs = builtin("costs").unwrap();
    let r = check(
        &costs,
        "date,cost_type,amount,currency\n2025-01-01,rent,10,EUR\n",
    );
    assert!(r.valid, "{:?}", r.problems);
    let sales = builtin("sales").unwrap();
    let r = check(
        &sales,
        "date,category,channel,net_amount,units,transactions,currency\n2025-01-05,bread,store,1,1,1,EUR\n",
    );
    assert!(r.valid, "{:?}", r.problems);
    let r = check(&costs, "date,cost_type,currency\n2025-01-01,rent,EUR\n");
    let missing: Vec<_> = r
        .problems
        .iter()
        .filter(|p| p.rule == "missing-label")
        .map(|p| p.column.clone().unwrap())
        .collect();
    assert_eq!(missing, ["amount"]);
}

#[test]
fn a_field_that_is_not_shareable_is_never_required() {
    let s = TableSchema::from_json(
        "t",
        r#"{"fields": [
            {"name": "a", "type": "string", "constraints": {"required": true}},
            {"name": "secret", "type": "string", "coopbench:shareable": false, "constraints": {"required": true}}
        ]}"#,
    )
    .unwrap();
    assert!(check(&s, "a\nx\n").valid);
    assert!(check(&s, "a,secret\nx,\n").valid);
    assert!(!check(&s, "secret\nx\n").valid);
}

#[test]
fn values_are_mapped_before_the_rules_and_unlisted_ones_are_checked_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("m.toml");
    std::fs::write(
        &map,
        "[values.category]\nBrot = \"bread\"\n\"Brötchen\" = \"bread\"\n[values.channel]\nLaden = \"store\"\n",
    )
    .unwrap();
    let opts = ReadOptions::resolve(
        "x.csv",
        &Default::default(),
        Some(Mapping::from_path(&map).unwrap()),
        false,
        Some("sales"),
    )
    .unwrap();
    let s = builtin("sales").unwrap();
    let head = "date,category,channel,net_amount,units,transactions,currency\n";
    let ok = format!("{head}2025-01-05,Brot,Laden,1,1,1,EUR\n2025-01-05,Brötchen,store,1,1,1,EUR\n2025-01-05,bread,Laden,1,1,1,EUR\n");
    let r = check_with(&s, ok.as_bytes(), &opts);
    assert!(r.valid, "{:?}", r.problems);
    let bad = format!("{head}2025-01-05,Kuchen,Laden,1,1,1,EUR\n");
    let r = check_with(&s, bad.as_bytes(), &opts);
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    let p = &r.problems[0];
    assert_eq!(
        (p.rule.as_str(), p.column.as_deref()),
        ("enum", Some("category"))
    );
    assert!(
        p.message.contains("\"Kuchen\" is not one of")
            && p.message.contains("[values.category] \"Kuchen\" = \"...\""),
        "{}",
        p.message
    );
    // A [values] table for a field the schema does not have is a problem too.
    std::fs::write(&map, "[values.kategorie]\nBrot = \"bread\"\n").unwrap();
    let opts = ReadOptions {
        mapping: Mapping::from_path(&map).unwrap(),
        ..ReadOptions::default()
    };
    let r = check_with(
        &s,
        ok.replace("Brot", "bread")
            .replace("Laden", "store")
            .replace("Brötchen", "bread")
            .as_bytes(),
        &opts,
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.rule == "mapping" && p.message.contains("[values.kategorie]")),
        "{:?}",
        r.problems
    );
}

#[test]
fn a_bare_non_ascii_key_in_a_mapping_file_is_explained() {
    match Mapping::from_text("[columns]\nStück = \"units\"\n") {
        // TOML 1.0 allows only A-Za-z0-9_- in bare keys.
        Err(e) => assert!(e.contains("line 2") && e.contains("\"Stück\" = ..."), "{e}"),
        // A parser that accepts Unicode bare keys reads it as meant.
        Ok(m) => assert_eq!(m.columns.get("Stück").map(String::as_str), Some("units")),
    }
    let m = Mapping::from_text("[columns]\n\"Stück\" = \"units\"\n").unwrap();
    assert_eq!(m.field_for("Stück"), "units");
}
