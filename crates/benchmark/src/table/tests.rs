//! Round trips of the published table format: types, field metadata, the
//! data dictionary, and files of the earlier layout.

use super::*;
use crate::layout::{RATIO_COLUMNS, RATIO_VERDICTS, TOTAL_COLUMNS, TOTAL_VERDICTS};

fn info(ty: ColumnType, unit: &str, description: &str) -> ColumnInfo {
    ColumnInfo {
        ty,
        unit: unit.into(),
        description: description.into(),
    }
}

fn row(month: Option<&str>, region: &str, estimate: Option<f64>, members: Option<f64>) -> Row {
    let mut labels = BTreeMap::from([("region".to_string(), region.to_string())]);
    if let Some(m) = month {
        labels.insert("month".into(), m.into());
    }
    Row {
        labels,
        figures: [
            ("estimate".to_string(), estimate),
            ("members_noisy".to_string(), members),
            ("noise_sd".to_string(), estimate.map(|_| 0.123_456_789)),
        ]
        .into(),
        verdicts: [(
            "verdict".to_string(),
            Some(
                if estimate.is_some() {
                    "readable"
                } else {
                    "suppressed"
                }
                .to_string(),
            ),
        )]
        .into(),
        suppressed: estimate.is_none(),
    }
}

/// A table split by region only: `month` is a column, null in every row.
fn table(rows: Vec<Row>) -> Table {
    Table {
        round: "r1".into(),
        all_dims: vec!["month".into(), "region".into(), "channel".into()],
        dims: vec!["region".into()],
        columns: vec!["estimate".into(), "members_noisy".into(), "noise_sd".into()],
        verdict_columns: vec!["verdict".into()],
        rows,
        metadata: [
            ("round_id".to_string(), "r1".to_string()),
            (DIMENSIONS_KEY.to_string(), "region".to_string()),
        ]
        .into(),
        info: [
            (
                "estimate".to_string(),
                info(ColumnType::Money, "EUR", "net sales"),
            ),
            (
                "members_noisy".to_string(),
                info(ColumnType::Integer, "members", "members"),
            ),
            (
                "noise_sd".to_string(),
                info(ColumnType::Float, "EUR", "noise"),
            ),
            (
                "region".to_string(),
                info(ColumnType::Text, "", "the region; null: all regions"),
            ),
        ]
        .into(),
    }
}

#[test]
fn a_table_reads_back_as_written_with_its_types_units_and_descriptions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r1.parquet");
    let t = table(vec![
        row(None, "north", Some(1234.5), Some(7.0)),
        row(None, "south", None, None),
    ]);
    write(&t, &path, "coopbench test").unwrap();
    let back = read(&path).unwrap();
    assert_eq!(back.round, "r1");
    assert_eq!(back.all_dims, ["month", "region", "channel"]);
    assert_eq!(back.dims, ["region"], "a verdict column is no dimension");
    assert_eq!(back.columns, t.columns);
    assert_eq!(back.rows, t.rows);
    assert_eq!(back.metadata, t.metadata);
    assert_eq!(
        back.dictionary(),
        t.dictionary(),
        "units and descriptions round-trip"
    );
    assert_eq!(back.column("estimate").unit, "EUR");
    assert_eq!(back.column("estimate").description, "net sales");
    assert_eq!(back.column("members_noisy").ty, ColumnType::Integer);

    let schema = read_schema(&path).unwrap();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    assert_eq!(ty("round"), DataType::Utf8);
    assert_eq!(ty("month"), DataType::Date32);
    assert_eq!(ty("estimate"), DataType::Decimal128(38, 2));
    assert_eq!(ty("members_noisy"), DataType::Int64);
    assert_eq!(ty("noise_sd"), DataType::Float64);
    let estimate = schema.field_with_name("estimate").unwrap().metadata();
    assert_eq!(estimate.get(UNIT_KEY).map(String::as_str), Some("EUR"));
    assert_eq!(
        estimate.get(DESCRIPTION_KEY).map(String::as_str),
        Some("net sales")
    );
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names[0], "round", "the round comes first");
    assert_eq!(*names.last().unwrap(), "suppressed");
}

#[test]
fn money_is_rounded_to_cents_counts_to_integers_and_months_are_first_days() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r1.parquet");
    let mut t = table(vec![row(
        Some("2025-10"),
        "north",
        Some(1234.567_891),
        Some(6.6),
    )]);
    t.dims = vec!["month".into(), "region".into()];
    t.metadata
        .insert(DIMENSIONS_KEY.into(), "month,region".into());
    write(&t, &path, "coopbench test").unwrap();
    let batch = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let money = batch
        .column_by_name("estimate")
        .unwrap()
        .as_primitive::<Decimal128Type>();
    assert_eq!(money.value(0), 123_457, "1234.567891 EUR is 1234.57 EUR");
    let members = batch
        .column_by_name("members_noisy")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(members.value(0), 7);
    let month = batch
        .column_by_name("month")
        .unwrap()
        .as_primitive::<Date32Type>();
    // 2025-10-01 is day 20362 of the Unix epoch.
    assert_eq!(month.value(0), 20_362);
    assert!(batch.column_by_name("channel").unwrap().is_null(0));
    let back = read(&path).unwrap();
    assert_eq!(back.rows[0].labels["month"], "2025-10");
    assert_eq!(back.rows[0].get("estimate"), Some(1234.57));
    assert_eq!(back.dims, ["month", "region"]);
}

#[test]
fn money_round_trips_whole_totals_bit_for_bit_up_to_the_protocols_limits() {
    for v in [
        4_035_225_266_123_964_416.0,
        -4_035_225_266_123_964_416.0,
        (1u64 << 62) as f64 * 7.0,
        0.0,
        -0.05,
        1234.5,
        -1234.56,
    ] {
        let c = to_cents(v).unwrap();
        assert_eq!(from_decimal(c, 2).to_bits(), v.to_bits(), "{v}");
    }
    assert_eq!(to_cents(0.125), Some(13));
    assert_eq!(to_cents(-2.004), Some(-200));
    assert_eq!(to_cents(f64::NAN), None);
    assert_eq!(to_cents(1e36), None);
}

#[test]
fn a_month_label_that_is_no_month_is_an_error_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r1.parquet");
    let mut t = table(vec![row(Some("October"), "north", Some(1.0), Some(6.0))]);
    t.dims = vec!["month".into(), "region".into()];
    let e = write(&t, &path, "coopbench test").unwrap_err();
    assert!(e.contains("month label 'October' is not a month"), "{e}");
}

#[test]
fn every_column_of_a_table_is_in_its_dictionary_with_a_description() {
    for (figures, verdicts) in [
        (&TOTAL_COLUMNS[..], &TOTAL_VERDICTS[..]),
        (&RATIO_COLUMNS[..], &RATIO_VERDICTS[..]),
    ] {
        let t = Table {
            round: "r1".into(),
            all_dims: vec!["month".into()],
            columns: figures.iter().map(|c| c.to_string()).collect(),
            verdict_columns: verdicts.iter().map(|c| c.to_string()).collect(),
            ..Table::default()
        };
        let dictionary = t.dictionary();
        let names: Vec<&str> = dictionary.iter().map(|(n, _)| n.as_str()).collect();
        let schema = t.schema();
        let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names, fields,
            "the dictionary lists the file's columns in order"
        );
        for (name, info) in &dictionary {
            assert!(!info.description.is_empty(), "{name} has no description");
        }
        assert_eq!(t.column("month").ty, ColumnType::Date);
        assert_eq!(t.column("suppressed").ty, ColumnType::Boolean);
    }
}

#[test]
fn a_file_of_the_earlier_layout_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.parquet");
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("month", DataType::Utf8, false),
            Field::new("estimate", DataType::Float64, true),
            Field::new("suppressed", DataType::Boolean, false),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["2025-10"])),
            Arc::new(Float64Array::from(vec![Some(2.5)])),
            Arc::new(BooleanArray::from(vec![false])),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "round_id".into(),
            "old".to_string(),
        )]))
        .build();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let t = read(&path).unwrap();
    assert_eq!(t.round, "old");
    assert_eq!(t.dims, ["month"]);
    assert_eq!(t.rows[0].labels["month"], "2025-10");
    assert_eq!(t.rows[0].get("estimate"), Some(2.5));
}

#[test]
fn a_file_without_the_flag_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.parquet");
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])),
        vec![Arc::new(Float64Array::from(vec![1.0]))],
    )
    .unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let e = read(&path).unwrap_err();
    assert!(e.contains("no `suppressed` column"), "{e}");
}
