//! `cloudtab query`: SQL over the newest committed Parquet snapshot.
//!
//! Only files listed in the newest manifest are read, so a run that is
//! being written (or was killed) is never seen.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use cloudtab_schema::Registry;
use cloudtab_sinks::ddl::quote_ident;
use cloudtab_sinks::parquet::{latest_manifest, Location, Manifest, ParquetSinkConfig};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
use datafusion::prelude::{SessionConfig, SessionContext};
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;

use crate::cli::{QueryArgs, QueryFormat};
use crate::error::CliError;

/// Where a snapshot is read from, and the files' URLs as DataFusion
/// takes them.
enum Root {
    /// A local directory (canonical).
    Local(PathBuf),
    /// `s3://bucket/prefix/`.
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    S3(String),
}

impl Root {
    /// A file of the snapshot: an absolute local path (DataFusion
    /// percent-encodes it, so spaces and other characters are fine), or
    /// an s3:// URL.
    fn file_url(&self, rel: &str) -> String {
        match self {
            Root::Local(dir) => dir.join(rel).to_string_lossy().into_owned(),
            Root::S3(base) => format!("{base}{rel}"),
        }
    }
}

/// Opens the newest snapshot `source.url` names (a directory, a file://
/// URL, or s3://bucket/prefix with `source`'s credentials options) as a
/// DataFusion session.
pub async fn open_snapshot(
    source: &ParquetSinkConfig,
) -> Result<(SessionContext, Manifest), CliError> {
    source
        .validate()
        .map_err(|e| CliError::usage(format!("--data: {e}")))?;
    let data = source.url.as_str();
    let location = source
        .location()
        .map_err(|e| CliError::usage(format!("--data: {e}")))?;
    let mut config = SessionConfig::new();
    config
        .options_mut()
        .execution
        .parquet
        .schema_force_view_types = false;
    let ctx = SessionContext::new_with_config(config);
    let (root, store): (Root, Arc<dyn ObjectStore>) = match location {
        Location::Local(dir) => {
            if !dir.is_dir() {
                return Err(CliError::failure(anyhow::anyhow!(
                    "no snapshot at `{}`: the directory does not exist; run `cloudtab sync --sink {}` first",
                    dir.display(),
                    data
                )));
            }
            let dir = dir
                .canonicalize()
                .with_context(|| format!("cannot open `{}`", dir.display()))
                .map_err(CliError::failure)?;
            let store = LocalFileSystem::new_with_prefix(&dir).map_err(CliError::failure)?;
            (Root::Local(dir), Arc::new(store))
        }
        #[cfg(feature = "s3")]
        Location::S3 { bucket, prefix } => {
            let raw = cloudtab_sinks::parquet::s3_store(source, &bucket)
                .await
                .map_err(|e| CliError::usage(format!("--data: {e}")))?;
            let bucket_url = datafusion::execution::object_store::ObjectStoreUrl::parse(format!(
                "s3://{bucket}"
            ))
            .map_err(CliError::failure)?;
            ctx.register_object_store(bucket_url.as_ref(), raw.clone());
            let base = match prefix.as_str() {
                "" => format!("s3://{bucket}/"),
                p => format!("s3://{bucket}/{p}/"),
            };
            (
                Root::S3(base),
                cloudtab_sinks::parquet::rooted(raw, &prefix),
            )
        }
        #[cfg(not(feature = "s3"))]
        Location::S3 { .. } => {
            return Err(CliError::usage(
                "--data: this cloudtab was built without S3 support (the `s3` feature)",
            ))
        }
    };
    let manifest = latest_manifest(store.as_ref())
        .await
        .map_err(CliError::failure)?
        .ok_or_else(|| {
            CliError::failure(anyhow::anyhow!(
                "no committed snapshot in `{data}`; run `cloudtab sync --sink {data}` first"
            ))
        })?;

    register_functions(&ctx);
    // (`latest_manifest` refuses a manifest naming a file outside the root.)
    for (name, table) in &manifest.tables {
        let urls = table
            .files
            .iter()
            .map(|f| ListingTableUrl::parse(root.file_url(&f.path)))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("bad file path in manifest of run `{}`", manifest.run_id))
            .map_err(CliError::failure)?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let listing = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options);
        let listing = listing
            .infer_schema(&ctx.state())
            .await
            .with_context(|| {
                format!(
                    "cannot read the files of table `{name}` (run `{}`)",
                    manifest.run_id
                )
            })
            .map_err(CliError::failure)?;
        let provider = ListingTable::try_new(listing).map_err(CliError::failure)?;
        ctx.register_table(name.as_str(), Arc::new(provider))
            .map_err(CliError::failure)?;
    }
    register_resources_view(&ctx, &manifest).await?;
    Ok((ctx, manifest))
}

/// `_resources`: the base columns of every resource table, with `kind`.
async fn register_resources_view(
    ctx: &SessionContext,
    manifest: &Manifest,
) -> Result<(), CliError> {
    let registry = Registry::builtin();
    let cols = "_id, _run_id, _synced_at, cloud, account_id, account_name, region, zone, id, name, arn, ctime, mtime, atime, tags";
    let parts: Vec<String> = manifest
        .tables
        .keys()
        .filter(|t| registry.get(t).is_some_and(|d| d.is_resource()))
        .map(|t| format!("SELECT '{t}' AS kind, {cols} FROM {}", quote_ident(t)))
        .collect();
    if parts.is_empty() {
        return Ok(());
    }
    let sql = format!("CREATE VIEW _resources AS {}", parts.join(" UNION ALL "));
    ctx.sql(&sql).await.map_err(CliError::failure)?;
    Ok(())
}

/// `json_get(json_text, key)`: the value under `key` of a JSON object, as
/// text (strings unquoted); `NULL` when absent, `null` or not an object.
/// `tag(tags, key)` is the same, named for tags.
fn register_functions(ctx: &SessionContext) {
    for name in ["json_get", "tag"] {
        let udf = create_udf(
            name,
            vec![DataType::Utf8, DataType::Utf8],
            DataType::Utf8,
            Volatility::Immutable,
            Arc::new(json_get),
        );
        ctx.register_udf(udf);
    }
}

fn json_get(args: &[ColumnarValue]) -> datafusion::error::Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let (docs, keys) = (&arrays[0], &arrays[1]);
    let docs = docs.as_any().downcast_ref::<StringArray>();
    let keys = keys.as_any().downcast_ref::<StringArray>();
    let (Some(docs), Some(keys)) = (docs, keys) else {
        return Err(datafusion::error::DataFusionError::Execution(
            "json_get takes two text arguments".into(),
        ));
    };
    let out: StringArray = (0..docs.len())
        .map(|i| {
            if docs.is_null(i) || keys.is_null(i) {
                return None;
            }
            let v: serde_json::Value = serde_json::from_str(docs.value(i)).ok()?;
            match v.get(keys.value(i))? {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            }
        })
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
}

/// What a user's query may do: read. No DDL (`CREATE`, `DROP`), no DML
/// (`INSERT`, `COPY … TO`, which would write files), no statements (`SET`,
/// transactions).
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// Runs `sql` against the snapshot at `data` and prints the result.
pub async fn run(a: &QueryArgs) -> Result<(), CliError> {
    let source = ParquetSinkConfig {
        region: a.region.clone(),
        endpoint_url: a.endpoint_url.clone(),
        profile: a.profile.clone(),
        role_arn: a.role_arn.clone(),
        ..ParquetSinkConfig::for_url(&a.data)
    };
    let (sql, format) = (&a.sql, a.format);
    let (ctx, _) = open_snapshot(&source).await?;
    let df = ctx
        .sql_with_options(sql, read_only())
        .await
        .map_err(|e| {
            let refused = matches!(e, datafusion::error::DataFusionError::Plan(_))
                && ["DDL not supported", "DML not supported", "Statement not supported"]
                    .iter()
                    .any(|m| e.to_string().contains(m));
            if refused {
                CliError::usage(format!(
                    "query refused: `cloudtab query` only reads the snapshot (SELECT, WITH, EXPLAIN); {e}"
                ))
            } else {
                CliError::failure(anyhow::anyhow!("query failed: {e}"))
            }
        })?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df
        .collect()
        .await
        .map_err(|e| CliError::failure(anyhow::anyhow!("query failed: {e}")))?;
    let mut out = std::io::stdout().lock();
    let printed = print_batches(&mut out, schema, &batches, format).and_then(|()| Ok(out.flush()?));
    match printed {
        // The reader went away (`| head`): not an error.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other.map_err(CliError::failure),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<arrow::error::ArrowError>()
                .is_some_and(|a| a.to_string().contains("Broken pipe"))
    })
}

fn print_batches(
    out: &mut impl Write,
    schema: arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
    format: QueryFormat,
) -> anyhow::Result<()> {
    match format {
        QueryFormat::Table => {
            let table = arrow::util::pretty::pretty_format_batches_with_schema(schema, batches)?;
            writeln!(out, "{table}")?;
        }
        QueryFormat::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            // The header comes with the first batch: with no rows, an empty
            // batch still writes it.
            w.write(&RecordBatch::new_empty(schema))?;
            for b in batches {
                w.write(b)?;
            }
        }
        QueryFormat::Json => {
            // SQL NULL is `null`, not a missing field.
            let mut w = arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, arrow::json::writer::JsonArray>(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
            writeln!(out)?;
        }
    }
    Ok(())
}
