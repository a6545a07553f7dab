use std::collections::HashSet;
use std::sync::Arc;

use cloudtab_schema::{Item, Value};
use tokio::sync::mpsc;

use super::*;
use crate::runner::{run_scopes, NoProgress};
use crate::ScopeStatus;

fn items(config: &DemoConfig) -> Vec<Item> {
    let layout = gen::Layout::new(config.scale, config.seed);
    let mut out = Vec::new();
    for s in layout.scopes() {
        layout.generate(&s, &mut |i| out.push(i));
    }
    out
}

#[test]
fn same_seed_same_inventory_other_seed_other_inventory() {
    let c = DemoConfig {
        scale: 2,
        seed: 7,
        ..Default::default()
    };
    assert_eq!(items(&c), items(&c));
    assert_ne!(
        items(&c),
        items(&DemoConfig {
            seed: 8,
            ..c.clone()
        })
    );
}

#[test]
fn about_a_hundred_resources_per_unit_and_every_table_filled() {
    for scale in [1, 3, 40] {
        let c = counts(&DemoConfig {
            scale,
            ..Default::default()
        });
        let total: u64 = c.tables.values().sum();
        assert!(
            total >= 95 * scale && total <= 130 * scale,
            "scale {scale}: {total}"
        );
        for t in gen::TABLES {
            assert!(
                c.tables.get(t).copied().unwrap_or(0) > 0,
                "scale {scale}: {t} empty"
            );
        }
        assert!(c.edges["default"] > 0 && c.edges["delete"] > 0);
    }
}

#[test]
fn native_ids_are_unique_per_kind_and_account_region() {
    let mut seen = HashSet::new();
    for item in items(&DemoConfig {
        scale: 60,
        ..Default::default()
    }) {
        if let Item::Resource(r) = item {
            assert!(
                seen.insert((
                    r.table,
                    r.account_id.clone(),
                    r.region.clone(),
                    r.id.clone()
                )),
                "duplicate {} {}",
                r.table,
                r.id
            );
        }
    }
}

#[test]
fn tags_and_timestamps_come_in_realistic_shapes() {
    let all = items(&DemoConfig {
        scale: 20,
        ..Default::default()
    });
    let resources: Vec<_> = all
        .iter()
        .filter_map(|i| {
            if let Item::Resource(r) = i {
                Some(r)
            } else {
                None
            }
        })
        .collect();
    let has_tag = |k: &str| resources.iter().filter(|r| r.tags.get(k).is_some()).count();
    let owners = has_tag("owner");
    assert!(
        owners > resources.len() / 2 && owners < resources.len(),
        "some resources lack an owner"
    );
    assert!(resources
        .iter()
        .any(|r| r.tags.get("expires").as_deref() == Some("next week")));
    assert!(resources.iter().any(|r| r
        .tags
        .pairs()
        .iter()
        .any(|(_, v)| v.contains('"') && v.contains('ü'))));
    let shape = |f: &dyn Fn(&Value) -> bool| {
        resources
            .iter()
            .any(|r| f(&r.ctime) || f(&r.mtime) || f(&r.atime))
    };
    assert!(shape(&|v| matches!(v, Value::Text(s) if s.ends_with('Z'))));
    assert!(shape(
        &|v| matches!(v, Value::Text(s) if s.ends_with("+05:30"))
    ));
    assert!(shape(
        &|v| matches!(v, Value::Text(s) if s.len() > 19 && !s.ends_with('Z') && s.as_bytes()[10] == b' ')
    ));
    assert!(
        shape(&|v| matches!(v, Value::Text(s) if s.chars().all(|c| c.is_ascii_digit()))),
        "SQS epoch seconds as text"
    );
    assert!(shape(&|v| matches!(v, Value::EpochSeconds(_))));
    assert!(shape(&|v| matches!(v, Value::EpochMillis(_))));
    assert!(shape(&|v| matches!(v, Value::Timestamp { .. })));
}

#[test]
fn fail_scope_patterns_are_validated() {
    assert!(DemoConfig {
        fail_scopes: vec!["sqs".into()],
        ..Default::default()
    }
    .validate()
    .is_err());
    assert!(DemoConfig {
        scale: 0,
        ..Default::default()
    }
    .validate()
    .is_err());
    assert!(DemoConfig {
        fail_scopes: vec!["*/eu-west-1/sqs".into()],
        ..Default::default()
    }
    .validate()
    .is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_isolates_failed_scopes_and_delivers_everything_else() {
    let config = DemoConfig {
        scale: 3,
        seed: 1,
        fail_scopes: vec!["*/*/sqs".into()],
    };
    let expected = counts(&config);
    let demo: Arc<dyn Extractor> = Arc::new(DemoExtractor::new(config));
    let scopes = demo.scopes().await.unwrap();
    let work = scopes.iter().map(|s| (demo.clone(), s.clone())).collect();
    let (tx, mut rx) = mpsc::channel(2);
    let runner = tokio::spawn(run_scopes(
        work,
        3,
        tx,
        Arc::new(NoProgress),
        chrono::Utc::now(),
    ));
    let mut got: BTreeMap<&str, u64> = BTreeMap::new();
    while let Some(chunk) = rx.recv().await {
        for item in chunk {
            if let Item::Resource(r) = item {
                *got.entry(r.table).or_default() += 1;
            }
        }
    }
    let reports = runner.await.unwrap();
    assert_eq!(reports.len(), scopes.len());
    for r in &reports {
        if r.scope.service == "sqs" {
            assert_eq!(r.status, ScopeStatus::Denied);
            assert!(r.error.as_deref().unwrap_or("").contains("AccessDenied"));
        } else {
            assert_eq!(r.status, ScopeStatus::Ok, "{}", r.scope);
        }
    }
    assert_eq!(got.get("aws_sqs_queue"), None);
    let mut want = expected.tables.clone();
    want.remove("aws_sqs_queue");
    assert_eq!(got, want);
    let reported: u64 = reports.iter().map(|r| r.resources).sum();
    assert_eq!(reported, want.values().sum::<u64>());
}

#[test]
fn every_edge_end_is_a_resource_of_the_inventory() {
    let all = items(&DemoConfig {
        scale: 5,
        ..Default::default()
    });
    let mut uids = HashSet::new();
    for i in &all {
        if let Item::Resource(r) = i {
            // The `_id` sent with the resource is the one its fields give.
            assert_eq!(r.uid(), r.reference().uid());
            assert_eq!(
                r.uid(),
                cloudtab_schema::resource_uid(r.cloud, &r.account_id, &r.region, r.table, &r.id)
            );
            uids.insert(r.uid().to_string());
        }
    }
    let mut edges = 0;
    for i in &all {
        if let Item::Edge(e) = i {
            edges += 1;
            for end in [&e.from, &e.to] {
                assert!(
                    uids.contains(end.uid()),
                    "edge end {} ({}) is not in the inventory",
                    end.uid(),
                    end.table()
                );
            }
        }
    }
    assert!(edges > uids.len(), "edges outnumber resources");
}

#[test]
fn the_demo_declares_every_aws_table_and_fills_a_subset() {
    let declared = DemoExtractor::new(DemoConfig::default()).tables();
    let registry = cloudtab_schema::Registry::builtin();
    let aws: Vec<&str> = registry
        .resource_tables()
        .filter(|t| t.name.starts_with("aws_"))
        .map(|t| t.name)
        .collect();
    assert_eq!(declared, aws);
    for t in gen::TABLES {
        assert!(declared.contains(t), "{t}");
    }
}
