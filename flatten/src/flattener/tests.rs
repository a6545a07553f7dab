use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use cloudtab_schema::{resource_uid, EdgeType, Item, Registry, Resource, ResourceRef, Tags, Value};

use super::*;

fn ctx() -> RunContext {
    RunContext {
        run_id: "run-1".into(),
        synced_at_micros: 1_700_000_000_000_000,
    }
}

fn volume(id: &str, values: Vec<(&'static str, Value)>) -> Item {
    Item::resource(volume_resource(id, values)).0
}

fn volume_resource(id: &str, values: Vec<(&'static str, Value)>) -> Resource {
    Resource {
        table: "aws_ec2_volume",
        cloud: "aws",
        account_id: Arc::from("123456789012"),
        account_name: None,
        region: Arc::from("eu-west-1"),
        zone: Some("eu-west-1a".into()),
        id: id.into(),
        name: Some("data \"primary\" ünï".into()),
        arn: None,
        ctime: Value::Text("2024-03-01T05:29:59.123456+05:30".into()),
        mtime: Value::EpochMillis(1_709_251_199_123),
        atime: Value::Text("next tuesday".into()),
        tags: Tags::new(&[("owner", "a\"b\\c\n"), ("owner", "last"), ("k", "ü")]),
        values,
    }
}

fn one_batch(f: &mut Flattener, table: &str) -> RecordBatch {
    let out = f.finish().unwrap();
    let (_, b) = out
        .into_iter()
        .find(|(d, _)| d.name == table)
        .expect("table has a batch");
    b
}

#[test]
fn resource_row_is_typed_and_bad_values_become_issues() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 100);
    // Out of schema order, one left out, one bad, one unknown, JSON null.
    f.push(volume(
        "vol-1",
        vec![
            ("encrypted", Value::Text("TRUE".into())),
            ("size_bytes", Value::Int(8 << 30)),
            ("iops", Value::Text("lots".into())),
            ("attachments", Value::json(serde_json::Value::Null)),
            (
                "kms_key_id",
                Value::json(serde_json::json!("arn:aws:kms:x")),
            ),
            ("no_such_column", Value::Int(1)),
        ],
    ))
    .unwrap();
    let b = one_batch(&mut f, "aws_ec2_volume");
    assert_eq!(b.num_rows(), 1);
    assert_eq!(
        b.schema(),
        crate::arrow_schema(Registry::builtin().get("aws_ec2_volume").unwrap())
    );
    let col = |n: &str| b.column(b.schema().index_of(n).unwrap()).clone();
    assert_eq!(
        col("_id").as_string::<i32>().value(0),
        resource_uid(
            "aws",
            "123456789012",
            "eu-west-1",
            "aws_ec2_volume",
            "vol-1"
        )
    );
    assert_eq!(col("_run_id").as_string::<i32>().value(0), "run-1");
    assert_eq!(
        col("_synced_at")
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_700_000_000_000_000
    );
    assert_eq!(
        col("ctime")
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_709_251_199_123_456
    );
    assert_eq!(
        col("mtime")
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_709_251_199_123_000
    );
    assert!(col("atime").is_null(0));
    assert_eq!(
        col("size_bytes").as_primitive::<Int64Type>().value(0),
        8 << 30
    );
    assert!(col("iops").is_null(0));
    assert!(
        col("attachments").is_null(0),
        "JSON null is SQL NULL, not 'null'"
    );
    assert!(col("snapshot_id").is_null(0), "left-out column is NULL");
    assert!(col("encrypted").as_boolean().value(0));
    assert_eq!(
        col("kms_key_id").as_string::<i32>().value(0),
        "arn:aws:kms:x"
    );
    let tags: serde_json::Value =
        serde_json::from_str(col("tags").as_string::<i32>().value(0)).unwrap();
    assert_eq!(tags, serde_json::json!({"owner": "last", "k": "ü"}));

    let counts = f.counts().clone();
    assert_eq!(counts.issues, 3, "atime, iops, unknown column");
    assert_eq!(counts.resources, 1);
}

#[test]
fn issues_name_table_column_resource_and_raw_value() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 100);
    f.push(volume("vol-2", vec![("iops", Value::Text("lots".into()))]))
        .unwrap();
    let b = one_batch(&mut f, "_issues");
    let s = |n: &str, i: usize| {
        b.column(b.schema().index_of(n).unwrap())
            .as_string::<i32>()
            .value(i)
            .to_string()
    };
    let mut rows: Vec<_> = (0..b.num_rows())
        .map(|i| (s("column_name", i), s("raw_value", i), s("reason", i)))
        .collect();
    rows.sort();
    assert_eq!(rows[0].0, "atime");
    assert_eq!(rows[0].1, "next tuesday");
    assert!(rows[0].2.contains("not a timestamp"), "{}", rows[0].2);
    assert_eq!(rows[1].0, "iops");
    assert_eq!(s("table_name", 0), "aws_ec2_volume");
    assert_eq!(
        s("resource_id", 0),
        resource_uid(
            "aws",
            "123456789012",
            "eu-west-1",
            "aws_ec2_volume",
            "vol-2"
        )
    );
}

#[test]
fn batches_are_handed_out_at_batch_rows() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 4);
    for i in 0..10 {
        f.push(volume(&format!("vol-{i}"), vec![])).unwrap();
    }
    let ready: Vec<usize> = f
        .take_ready()
        .filter(|(d, _)| d.name == "aws_ec2_volume")
        .map(|(_, b)| b.num_rows())
        .collect();
    assert_eq!(ready, vec![4, 4]);
    let rest: usize = f
        .finish()
        .unwrap()
        .iter()
        .filter(|(d, _)| d.name == "aws_ec2_volume")
        .map(|(_, b)| b.num_rows())
        .sum();
    assert_eq!(rest, 2);
    assert_eq!(f.counts().rows["aws_ec2_volume"], 10);
}

/// `_run_id` and `_synced_at` are made once per flattener and sliced to
/// each batch: every row of full and partial batches of resources, edges
/// and issues holds them, and no batch is longer than its rows.
#[test]
fn run_columns_fill_every_row_of_every_batch() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 3);
    let r = |table, id: &str| ResourceRef::new(table, "aws", "1", "r", id);
    for i in 0..7 {
        // Each volume also makes one `_issues` row (its `atime`).
        f.push(volume(&format!("vol-{i}"), vec![])).unwrap();
        f.push(Item::Edge(Edge {
            from: r("aws_ec2_instance", "i-1"),
            to: r("aws_ec2_volume", &format!("vol-{i}")),
            edge_type: EdgeType::Default,
        }))
        .unwrap();
    }
    let mut batches: Vec<_> = f.take_ready().collect();
    batches.extend(f.finish().unwrap());
    let mut rows: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (def, b) in &batches {
        rows.entry(def.name).or_default().push(b.num_rows());
        let run_id = b.column(b.schema().index_of("_run_id").unwrap());
        assert_eq!(run_id.len(), b.num_rows(), "{}", def.name);
        assert_eq!(run_id.null_count(), 0);
        let run_id = run_id.as_string::<i32>();
        assert!(run_id.iter().all(|v| v == Some("run-1")), "{}", def.name);
        if let Ok(i) = b.schema().index_of("_synced_at") {
            let t = b.column(i).as_primitive::<TimestampMicrosecondType>();
            assert_eq!(t.len(), b.num_rows());
            assert!(t.iter().all(|v| v == Some(ctx().synced_at_micros)));
        }
    }
    for table in ["aws_ec2_volume", "_edges", "_issues"] {
        assert_eq!(rows[table], vec![3, 3, 1], "{table}");
    }
}

#[test]
fn edges_get_ids_of_both_ends() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 100);
    let r = |table, id: &str| ResourceRef::new(table, "aws", "1", "r", id);
    f.push(Item::Edge(Edge {
        from: r("aws_ec2_instance", "i-1"),
        to: r("aws_ec2_volume", "vol-1"),
        edge_type: EdgeType::Default,
    }))
    .unwrap();
    f.push(Item::Edge(Edge {
        from: r("aws_ec2_volume", "vol-1"),
        to: r("aws_ec2_instance", "i-1"),
        edge_type: EdgeType::Delete,
    }))
    .unwrap();
    let b = one_batch(&mut f, "_edges");
    let s = |n: &str, i: usize| {
        b.column(b.schema().index_of(n).unwrap())
            .as_string::<i32>()
            .value(i)
            .to_string()
    };
    assert_eq!(
        s("from_id", 0),
        resource_uid("aws", "1", "r", "aws_ec2_instance", "i-1")
    );
    assert_eq!(s("to_kind", 0), "aws_ec2_volume");
    assert_eq!(s("edge_type", 1), "delete");
    assert_eq!(f.counts().edges["default"], 1);
    assert_eq!(f.counts().edges["delete"], 1);
}

#[test]
fn system_rows_check_arity_and_unknown_tables_are_errors() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 100);
    assert!(matches!(
        f.push_row("_runs", &[Value::Null]),
        Err(FlattenError::Arity { .. })
    ));
    assert!(matches!(
        f.push_row("nope", &[]),
        Err(FlattenError::UnknownTable(_))
    ));
    let item = Item::resource(Resource {
        table: "aws_no_such_thing",
        ..volume_resource("v", vec![])
    })
    .0;
    assert!(matches!(f.push(item), Err(FlattenError::UnknownTable(_))));
}

#[test]
fn json_columns_keep_documents_and_quote_text() {
    let mut f = Flattener::new(Registry::builtin(), ctx(), 100);
    f.push(volume(
        "v",
        vec![(
            "attachments",
            Value::json(serde_json::json!([{"InstanceId": "i-1"}])),
        )],
    ))
    .unwrap();
    f.push(volume(
        "w",
        vec![("attachments", Value::Text("plain".into()))],
    ))
    .unwrap();
    let b = one_batch(&mut f, "aws_ec2_volume");
    let c = b
        .column(b.schema().index_of("attachments").unwrap())
        .as_string::<i32>();
    assert_eq!(c.value(0), r#"[{"InstanceId":"i-1"}]"#);
    assert_eq!(c.value(1), r#""plain""#);
}

#[test]
fn batches_are_cut_by_bytes_before_text_offsets_overflow() {
    // Issue #12: 2,100 rows of 1 MiB text at the largest batch_rows are
    // 2.2 GB, more than a 32-bit offset addresses; the batch is cut early.
    let mut f = Flattener::new(Registry::builtin(), ctx(), 1 << 20);
    let doc = "x".repeat(1 << 20);
    let (mut rows, mut batches) = (0usize, 0usize);
    let mut check = |all: Vec<(&'static TableDef, RecordBatch)>| {
        for (def, b) in all {
            if def.name != "aws_ec2_volume" {
                continue;
            }
            let names = b.column_by_name("name").unwrap().as_string::<i32>();
            assert!(names.value_data().len() <= MAX_BATCH_TEXT_BYTES + (1 << 20));
            assert!(names.iter().all(|n| n.is_some_and(|n| n.len() == 1 << 20)));
            rows += b.num_rows();
            batches += 1;
        }
    };
    for i in 0..2100 {
        let mut r = volume_resource(&format!("vol-{i}"), vec![]);
        r.name = Some(doc.clone());
        f.push(Item::resource(r).0).unwrap();
        check(f.take_ready().collect());
    }
    check(f.finish().unwrap());
    assert_eq!(rows, 2100);
    assert!(batches >= 9, "{batches} batches");
}
