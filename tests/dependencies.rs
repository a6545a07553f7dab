//! Guards on the dependency graph: one arrow for everything, and
//! extractors free of Arrow (ARCHITECTURE.md, "Layout").

use std::process::Command;

/// `cargo tree` lines as `<depth><crate> v<version>`.
fn cargo_tree(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--edges",
            "normal",
            "--prefix",
            "depth",
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn exactly_one_arrow_and_parquet() {
    let dups = cargo_tree(&["--workspace", "--duplicates"]);
    let bad: Vec<&str> = dups
        .lines()
        .filter(|l| {
            ["arrow", "parquet ", "object_store ", "datafusion "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "duplicate arrow-family crates:\n{}",
        bad.join("\n")
    );
}

#[test]
fn extract_and_schema_do_not_depend_on_arrow() {
    for krate in ["cloudtab-extract", "cloudtab-schema"] {
        let tree = cargo_tree(&["-p", krate]);
        let arrow: Vec<&str> = tree
            .lines()
            .filter(|l| l.starts_with("arrow") || l.starts_with("parquet"))
            .collect();
        assert!(arrow.is_empty(), "{krate} depends on {arrow:?}");
    }
}

#[test]
fn sinks_do_not_depend_on_extractors() {
    let tree = cargo_tree(&["-p", "cloudtab-sinks"]);
    assert!(
        !tree
            .lines()
            .any(|l| l.starts_with("cloudtab-extract") || l.starts_with("aws-")),
        "{tree}"
    );
}

#[test]
fn the_minimal_build_has_no_aws_sdk_and_no_postgres_client() {
    // Issue #18: `--no-default-features` (the demo cloud and Parquet, what
    // the quick start builds) leaves out what only AWS and PostgreSQL need.
    let tree = cargo_tree(&["-p", "cloudtab", "--no-default-features"]);
    let heavy: Vec<&str> = tree
        .lines()
        .map(|l| l.trim_start_matches(|c: char| c.is_ascii_digit()))
        .filter(|l| {
            l.starts_with("aws-") || l.starts_with("tokio-postgres") || l.starts_with("rustls ")
        })
        .collect();
    assert!(heavy.is_empty(), "{heavy:?}");
    // The default build has both.
    let full = cargo_tree(&["-p", "cloudtab"]);
    for want in ["aws-sdk-ec2", "tokio-postgres"] {
        assert!(
            full.lines().any(|l| l
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(want)),
            "{want}"
        );
    }
}
