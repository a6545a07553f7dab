use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use cloudtab_schema::{ColumnType, TableDef, TableKind, EDGES_TABLE, ISSUES_TABLE};
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use tokio::task::JoinHandle;

use super::client::{Bind, ClientError, Rows, Session};
use super::config::{Resolved, SnowflakeSinkConfig};
use super::crypt::random_hex;
use crate::sink::{
    Carried, CommitInfo, LoadMode, Migrate, RunInfo, ScopeKey, Sink, SinkError, SinkTransaction,
};
use crate::snowflake_ddl::{sf_create_table_in, sf_ident, sf_type, SF_SNAPSHOT_RUN_COLUMN};

/// The table whose one row says which run writes the schema, until when.
pub const LOCK_TABLE: &str = "_CLOUDTAB_LOCK";

/// History mode's committed runs, in commit order.
pub const SNAPSHOTS_TABLE: &str = "_CLOUDTAB_SNAPSHOTS";

/// Rows per row group of a staged file: small, so that the writer's
/// buffer is flushed into the (compressed) file often.
const STAGED_ROW_GROUP_ROWS: usize = 16_384;

/// A staged file is put to the stage once it holds this many bytes (or
/// `file_rows` rows).
const FILE_BYTES: usize = 8 << 20;

/// All open staged files together: past this, the largest is put to the
/// stage, so memory stays bounded however many tables a run fills
/// (docs/BENCHMARKS.md, "Snowflake").
const OPEN_FILES_BYTES: usize = 24 << 20;

/// The key of `_edges` (aliased `s`).
const EDGE_KEY: &str = "s.\"FROM_ID\", s.\"TO_ID\", s.\"EDGE_TYPE\"";

/// Names of the run's own tables (staging, carried ids) start with this
/// and a nonce; the lock holder drops any it did not make itself (a
/// killed run's).
const STAGING_PREFIX: &str = "_CLOUDTAB_STAGING_";

/// An expiry long past, for a released lock.
const EPOCH: &str = "CAST('1970-01-01 00:00:00 +00:00' AS TIMESTAMP_TZ)";

/// The Snowflake sink. See the module docs.
pub struct SnowflakeSink {
    config: SnowflakeSinkConfig,
    r: Resolved,
    describe: String,
    http: reqwest::Client,
}

/// The family `information_schema.columns.data_type` reports for a
/// column type.
fn sf_family(ty: ColumnType) -> &'static str {
    match sf_type(ty) {
        "VARCHAR" => "TEXT",
        "NUMBER(38,0)" => "NUMBER",
        "TIMESTAMP_TZ(6)" => "TIMESTAMP_TZ",
        other => other,
    }
}

/// The staging type of a column: JSON arrives as text and is parsed into
/// `VARIANT` when the snapshot is published.
fn staging_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Json => "VARCHAR",
        other => sf_type(other),
    }
}

impl SnowflakeSink {
    /// Checks the configuration (no I/O) and builds the sink.
    pub fn build(config: SnowflakeSinkConfig) -> Result<Self, SinkError> {
        let r = config.resolve()?;
        if config.stage.is_some() && !cfg!(feature = "s3") {
            return Err(SinkError::Config(
                "stage: an external stage needs cloudtab built with the `s3` feature".into(),
            ));
        }
        if let Some(s) = &config.stage {
            let ok = s[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.$\"".contains(c));
            if !ok {
                return Err(SinkError::Config(format!(
                    "stage: `{}` is not a stage name (`@name`, `@schema.name` or `@db.schema.name`)",
                    s.escape_debug()
                )));
            }
        }
        Ok(SnowflakeSink {
            describe: config.describe(),
            config,
            r,
            http: super::client::http_client()?,
        })
    }

    fn role_hint(&self) -> String {
        self.r
            .login
            .role
            .as_deref()
            .map(sf_ident)
            .unwrap_or_else(|| "<your role>".into())
    }

    fn err(&self, what: &str, e: ClientError) -> SinkError {
        match e {
            ClientError::Sink(s) => s,
            e => SinkError::Other(format!(
                "Snowflake sink {}: failed to {what}: {e}",
                self.describe
            )),
        }
    }

    /// A refusal that a grant fixes: what failed, the server's reason, and
    /// what to run.
    fn refused(&self, what: &str, e: ClientError, fix: &str) -> SinkError {
        SinkError::Other(format!(
            "Snowflake sink {}: {what}: {e}. {fix}",
            self.describe
        ))
    }

    /// Logs in and makes the warehouse, database and schema current,
    /// creating the schema when missing. Errors say what to grant.
    async fn connect(&self) -> Result<Arc<Session>, SinkError> {
        let s = Session::login(self.http.clone(), self.r.login.clone())
            .await
            .map_err(|e| match e {
                ClientError::Sink(s) => s,
                e => SinkError::Other(format!(
                    "Snowflake sink {}: cannot log in as `{}`: {e}. Check `account`/`host`, `user` and the secret{}",
                    self.describe,
                    self.r.login.user,
                    match &self.r.login.secret {
                        super::auth::Secret::KeyFile(..) => " (for a key pair, `DESC USER` must show the RSA_PUBLIC_KEY_FP of this key)",
                        _ => "",
                    }
                )),
            })?;
        let role = self.role_hint();
        let db = sf_ident(&self.r.database);
        let schema = sf_ident(&self.r.schema);
        if let Some(w) = &self.r.warehouse {
            let w = sf_ident(w);
            s.query(&format!("USE WAREHOUSE {w}"), &[])
                .await
                .map_err(|e| {
                    self.refused(
                        &format!("cannot use warehouse {w}"),
                        e,
                        &format!(
                            "Check the name, or run `GRANT USAGE ON WAREHOUSE {w} TO ROLE {role}`"
                        ),
                    )
                })?;
        }
        s.query(&format!("USE DATABASE {db}"), &[])
            .await
            .map_err(|e| {
                self.refused(
                    &format!("cannot use database {db}"),
                    e,
                    &format!(
                        "Check the name, or run `GRANT USAGE ON DATABASE {db} TO ROLE {role}`"
                    ),
                )
            })?;
        if s.query(&format!("USE SCHEMA {schema}"), &[]).await.is_err() {
            s.query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"), &[])
                .await
                .map_err(|e| {
                    self.refused(
                        &format!("schema {db}.{schema} cannot be used or created"),
                        e,
                        &format!("Run `GRANT CREATE SCHEMA ON DATABASE {db} TO ROLE {role}`, or create it and `GRANT USAGE, CREATE TABLE, CREATE VIEW, CREATE STAGE ON SCHEMA {db}.{schema} TO ROLE {role}`"),
                    )
                })?;
            s.query(&format!("USE SCHEMA {schema}"), &[])
                .await
                .map_err(|e| self.err("use the schema it created", e))?;
        }
        Ok(s)
    }

    fn layout_history(&self) -> bool {
        self.config.mode == LoadMode::History
    }

    /// What exists in the schema for `tables`, and what has to change.
    async fn plan(
        &self,
        s: &Session,
        tables: &[(&'static TableDef, SchemaRef)],
    ) -> Result<Vec<TablePlan>, SinkError> {
        let rows = s
            .query(
                "SELECT table_name, column_name, data_type FROM information_schema.columns \
                 WHERE table_schema = ? ORDER BY table_name, ordinal_position",
                &[Bind::from(self.r.schema.as_str())],
            )
            .await
            .map_err(|e| self.err("read the existing tables", e))?;
        let mut existing: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for r in rows.text() {
            if let [Some(t), Some(c), Some(ty)] = &r[..] {
                existing
                    .entry(t.clone())
                    .or_default()
                    .push((c.clone(), ty.clone()));
            }
        }
        let history = self.layout_history();
        let mut plans = Vec::new();
        let mut problems = Vec::new();
        for (t, schema) in tables {
            let mut plan = TablePlan {
                def: t,
                schema: schema.clone(),
                exists: false,
                recreate: false,
                add: Vec::new(),
                carry: Vec::new(),
                view_missing: history,
                staging: String::new(),
                file: None,
                files: 0,
                rows: 0,
            };
            let upper = t.name.to_uppercase();
            if history {
                plan.view_missing = !existing.contains_key(&format!("{upper}_LATEST"));
            }
            let Some(cols) = existing.get(&upper) else {
                plans.push(plan);
                continue;
            };
            plan.exists = true;
            let mut want: Vec<(String, &str)> = t
                .columns
                .iter()
                .map(|c| (c.name.to_uppercase(), sf_family(c.ty)))
                .collect();
            if history {
                want.push((SF_SNAPSHOT_RUN_COLUMN.into(), "TEXT"));
            }
            let mut trouble = Vec::new();
            let has_run_col = cols.iter().any(|(n, _)| n == SF_SNAPSHOT_RUN_COLUMN);
            if history && !has_run_col {
                trouble.push("it was loaded in snapshot mode, not history mode".to_string());
            }
            for (name, ty) in cols {
                match want.iter().find(|(n, _)| n == name) {
                    None if name == SF_SNAPSHOT_RUN_COLUMN => {
                        trouble.push("it was loaded in history mode, not snapshot mode".into())
                    }
                    None => trouble.push(format!(
                        "column {} ({ty}) is no longer in cloudtab's schema",
                        sf_ident(name)
                    )),
                    Some((_, w)) if w != ty => trouble.push(format!(
                        "column {} is {ty} in the database but {w} in cloudtab's schema",
                        sf_ident(name)
                    )),
                    Some(_) if name == SF_SNAPSHOT_RUN_COLUMN => {}
                    Some((n, _)) => {
                        if let Some(c) = t.columns.iter().find(|c| c.name.to_uppercase() == *n) {
                            plan.carry.push(c.name);
                        }
                    }
                }
            }
            plan.add = t
                .columns
                .iter()
                .map(|c| c.name)
                .filter(|n| !cols.iter().any(|(c, _)| *c == n.to_uppercase()))
                .collect();
            if trouble.is_empty() {
                plans.push(plan);
            } else if self.config.migrate == Migrate::Force {
                tracing::warn!(table = t.name, changes = %trouble.join("; "), "--migrate=force: the table will be dropped and created again at commit");
                plan.recreate = true;
                plan.carry.clear();
                plan.add.clear();
                plans.push(plan);
            } else {
                problems.push(format!(
                    "table {}.{}: {}",
                    sf_ident(&self.r.schema),
                    sf_ident(t.name),
                    trouble.join("; ")
                ));
            }
        }
        if !problems.is_empty() {
            return Err(crate::sink::schema_mismatch(
                "Snowflake",
                &problems,
                "their data goes",
            ));
        }
        Ok(plans)
    }
}

#[async_trait]
impl Sink for SnowflakeSink {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        let s = self.connect().await?;
        let result = async {
            let role = self.role_hint();
            let where_ = format!(
                "{}.{}",
                sf_ident(&self.r.database),
                sf_ident(&self.r.schema)
            );
            let probe = format!(
                "\"_CLOUDTAB_HEALTHCHECK_{}\"",
                random_hex(4)?.to_uppercase()
            );
            s.query(
                &format!("CREATE TEMPORARY TABLE {probe} (\"X\" VARCHAR)"),
                &[],
            )
            .await
            .map_err(|e| {
                self.refused(
                    &format!("may not create tables in {where_}"),
                    e,
                    &format!("Run `GRANT CREATE TABLE ON SCHEMA {where_} TO ROLE {role}`"),
                )
            })?;
            let _ = s.query(&format!("DROP TABLE IF EXISTS {probe}"), &[]).await;
            if self.config.stage.is_none() {
                s.query(&format!("CREATE TEMPORARY STAGE {probe}"), &[])
                    .await
                    .map_err(|e| {
                        self.refused(
                            &format!("may not create a stage in {where_}"),
                            e,
                            &format!("Run `GRANT CREATE STAGE ON SCHEMA {where_} TO ROLE {role}`"),
                        )
                    })?;
            }
            let registry = cloudtab_schema::Registry::builtin();
            let tables: Vec<(&'static TableDef, SchemaRef)> = registry
                .tables()
                .iter()
                .map(|t| (t, Arc::new(arrow::datatypes::Schema::empty())))
                .collect();
            self.plan(&s, &tables).await.map(|_| ())
        }
        .await;
        s.close().await;
        result
    }

    async fn begin(&self, run: &RunInfo) -> Result<Box<dyn SinkTransaction>, SinkError> {
        crate::sink::validate_run_id(&run.run_id)?;
        let lock_session = self.connect().await?;
        let lock = match RunLock::acquire(
            lock_session,
            &self.r.schema,
            &run.run_id,
            Duration::from_secs(self.config.lease_secs),
            self.config.lock_wait(),
            &self.describe,
        )
        .await
        {
            Ok(l) => l,
            Err(e) => return Err(e),
        };
        let started = async {
            let s = self.connect().await?;
            let mut plans = self.plan(&s, &run.tables).await?;
            let history = self.layout_history();
            if history {
                let seen = s
                    .query(
                        &format!(
                            "SELECT COUNT(*) FROM {}.{} WHERE \"RUN_ID\" = ?",
                            sf_ident(&self.r.schema),
                            sf_ident(SNAPSHOTS_TABLE)
                        ),
                        &[Bind::from(run.run_id.as_str())],
                    )
                    .await
                    .map(|r| r.count())
                    .unwrap_or(0);
                if seen > 0 {
                    return Err(SinkError::Conflict(format!(
                        "run `{}` was committed to {} already; every run needs a new id",
                        run.run_id, self.describe
                    )));
                }
            }
            // With the lock held no other run is live: staging tables
            // left in the schema are a killed run's.
            let left = s
                .query(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND STARTSWITH(table_name, ?)",
                    &[Bind::from(self.r.schema.as_str()), Bind::from(STAGING_PREFIX)],
                )
                .await
                .map_err(|e| self.err("list staging tables left by killed runs", e))?;
            for t in left.text().into_iter().filter_map(|r| r.into_iter().next().flatten()) {
                tracing::info!(table = %t, "dropping a staging table a killed run left");
                s.query(&format!("DROP TABLE IF EXISTS {}.{}", sf_ident(&self.r.schema), sf_ident(&t)), &[])
                    .await
                    .map_err(|e| self.err("drop a staging table a killed run left", e))?;
            }
            let nonce = random_hex(6)?.to_uppercase();
            for (i, p) in plans.iter_mut().enumerate() {
                p.staging = format!("{}.{}", sf_ident(&self.r.schema), sf_ident(&format!("{STAGING_PREFIX}{nonce}_{i}")));
                let cols: Vec<String> = p
                    .def
                    .columns
                    .iter()
                    .map(|c| format!("{} {}", sf_ident(c.name), staging_type(c.ty)))
                    .collect();
                s.query(
                    &format!("CREATE TRANSIENT TABLE {} ({})", p.staging, cols.join(", ")),
                    &[],
                )
                .await
                .map_err(|e| self.err(&format!("create the staging table of `{}`", p.def.name), e))?;
            }
            let target = match (&self.config.stage, &self.config.stage_url) {
                (Some(stage), Some(url)) => external_target(&self.config, stage, url, &run.run_id, &nonce).await?,
                _ => {
                    let name = format!("_CLOUDTAB_STAGE_{nonce}");
                    s.query(&format!("CREATE TEMPORARY STAGE {}", sf_ident(&name)), &[])
                        .await
                        .map_err(|e| self.err("create the run's temporary stage", e))?;
                    StageTarget::Internal(sf_ident(&name))
                }
            };
            Ok::<_, SinkError>((s, plans, target, nonce))
        }
        .await;
        let (session, plans, target, nonce) = match started {
            Ok(v) => v,
            Err(e) => {
                lock.release().await;
                return Err(e);
            }
        };
        let props = crate::parquet::writer_properties(&run.tables, STAGED_ROW_GROUP_ROWS, 64 << 20);
        Ok(Box::new(SnowflakeTransaction {
            session,
            lock: Some(lock),
            describe: self.describe.clone(),
            location: format!(
                "{}.{}",
                sf_ident(&self.r.database),
                sf_ident(&self.r.schema)
            ),
            schema: self.r.schema.clone(),
            run_id: run.run_id.clone(),
            history: self.layout_history(),
            lease: Duration::from_secs(self.config.lease_secs),
            file_rows: self.config.file_rows,
            props,
            plans,
            target,
            bytes: 0,
            carried: None,
            nonce,
            repeated_edges: false,
        }))
    }
}

/// Where a run's files go before `COPY` reads them.
enum StageTarget {
    /// A temporary internal stage (quoted name): files go up with `PUT`.
    Internal(String),
    /// The user's external stage: files go to its bucket under `prefix`
    /// (the stage URL's own prefix, then `run_dir`), and `COPY` reads them
    /// as `@stage/run_dir/…`. Needs the `s3` feature.
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    External {
        stage: String,
        store: Arc<dyn ObjectStore>,
        prefix: String,
        run_dir: String,
    },
}

#[cfg(feature = "s3")]
async fn external_target(
    config: &SnowflakeSinkConfig,
    stage: &str,
    url: &str,
    run_id: &str,
    nonce: &str,
) -> Result<StageTarget, SinkError> {
    let rest = url.trim_start_matches("s3://");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let mut pc = crate::parquet::ParquetSinkConfig::for_url(url);
    pc.region = config.stage_region.clone();
    pc.endpoint_url = config.stage_endpoint_url.clone();
    let store = crate::parquet::s3_store(&pc, bucket).await?;
    let prefix = prefix.trim_matches('/');
    let run_dir = format!("cloudtab-{run_id}-{}", nonce.to_lowercase());
    let prefix = if prefix.is_empty() {
        run_dir.clone()
    } else {
        format!("{prefix}/{run_dir}")
    };
    Ok(StageTarget::External {
        stage: stage.to_string(),
        store,
        prefix,
        run_dir,
    })
}

#[cfg(not(feature = "s3"))]
async fn external_target(
    _: &SnowflakeSinkConfig,
    _: &str,
    _: &str,
    _: &str,
    _: &str,
) -> Result<StageTarget, SinkError> {
    Err(SinkError::Config(
        "stage: an external stage needs cloudtab built with the `s3` feature".into(),
    ))
}

/// The run's hold on the schema: one row of [`LOCK_TABLE`], taken by an
/// `UPDATE` that only matches an expired row, renewed every third of the
/// lease on a session of its own, and checked once more inside the
/// publishing transaction. Snowflake runs `UPDATE`s of one table one at a
/// time, so of two runs taking an expired lock only one matches the row.
struct RunLock {
    session: Arc<Session>,
    holder: String,
    table: String,
    lost: Arc<AtomicBool>,
    renewer: Option<JoinHandle<()>>,
}

impl RunLock {
    async fn acquire(
        session: Arc<Session>,
        schema: &str,
        run_id: &str,
        lease: Duration,
        wait: Duration,
        describe: &str,
    ) -> Result<RunLock, SinkError> {
        let table = format!("{}.{}", sf_ident(schema), sf_ident(LOCK_TABLE));
        let fail = |what: &str, e: ClientError| {
            SinkError::Other(format!("Snowflake sink {describe}: failed to {what}: {e}"))
        };
        session
            .query(
                &format!(
                    "CREATE TABLE IF NOT EXISTS {table} (\"NAME\" VARCHAR, \"HOLDER\" VARCHAR, \"RUN_ID\" VARCHAR, \"HOST\" VARCHAR, \"PID\" NUMBER(38,0), \"ACQUIRED_AT\" TIMESTAMP_TZ(6), \"EXPIRES_AT\" TIMESTAMP_TZ(6)) COMMENT = 'Which cloudtab run writes this schema, until when'"
                ),
                &[],
            )
            .await
            .map_err(|e| fail("create the lock table", e))?;
        session
            .query(
                &format!(
                    "INSERT INTO {table} (\"NAME\", \"EXPIRES_AT\") SELECT 'run', {EPOCH} WHERE NOT EXISTS (SELECT 1 FROM {table})"
                ),
                &[],
            )
            .await
            .map_err(|e| fail("create the lock", e))?;
        let holder = random_hex(16)?;
        let host = crate::parquet::hostname();
        let start = Instant::now();
        let mut told = false;
        loop {
            let took = session
                .query(
                    &format!(
                        "UPDATE {table} SET \"HOLDER\" = ?, \"RUN_ID\" = ?, \"HOST\" = ?, \"PID\" = ?, \"ACQUIRED_AT\" = CURRENT_TIMESTAMP(), \"EXPIRES_AT\" = DATEADD(second, {}, CURRENT_TIMESTAMP()) WHERE \"EXPIRES_AT\" < CURRENT_TIMESTAMP()",
                        lease.as_secs()
                    ),
                    &[
                        Bind::from(holder.as_str()),
                        Bind::from(run_id),
                        Bind::from(host.as_str()),
                        Bind::Int(std::process::id() as i64),
                    ],
                )
                .await;
            match took {
                Ok(r) if r.count() >= 1 => break,
                Ok(_) => {}
                // Two runs updating at once: the emulator refuses one
                // (a write conflict); Snowflake would queue it.
                Err(ClientError::Server(e)) if e.message.to_lowercase().contains("conflict") => {}
                Err(e) => return Err(fail("take the run lock", e)),
            }
            let who = session
                .query(
                    &format!(
                        "SELECT \"RUN_ID\", \"HOST\", \"PID\", TO_VARCHAR(\"EXPIRES_AT\") FROM {table} WHERE \"EXPIRES_AT\" >= CURRENT_TIMESTAMP()"
                    ),
                    &[],
                )
                .await
                .ok()
                .and_then(|r| r.text().into_iter().next())
                .map(|r| {
                    let v = |i: usize| r.get(i).cloned().flatten().unwrap_or_else(|| "?".into());
                    format!("run `{}` on host `{}`, pid {}, holding it until {}", v(0), v(1), v(2), v(3))
                })
                .unwrap_or_else(|| "a run that just finished".into());
            if start.elapsed() >= wait {
                session.close().await;
                return Err(SinkError::Conflict(format!(
                    "another cloudtab run is writing to {describe} ({who}); gave up after {} s. Wait for it to finish, or raise `lock_wait_secs`; a killed run's hold lapses after `lease_secs`",
                    wait.as_secs()
                )));
            }
            if !told {
                tracing::warn!(sink = %describe, holder = %who, "another cloudtab run is writing to this schema; waiting for it");
                told = true;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = {
            let (session, holder, table, lost) =
                (session.clone(), holder.clone(), table.clone(), lost.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(lease / 3).await;
                    let r = session
                        .query(
                            &format!(
                                "UPDATE {table} SET \"EXPIRES_AT\" = DATEADD(second, {}, CURRENT_TIMESTAMP()) WHERE \"HOLDER\" = ?",
                                lease.as_secs()
                            ),
                            &[Bind::from(holder.as_str())],
                        )
                        .await;
                    match r {
                        Ok(r) if r.count() == 0 => {
                            tracing::error!("snowflake: this run lost its hold on the schema (another run took it over); it will not commit");
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "snowflake: renewing the run lock failed; trying again")
                        }
                    }
                }
            })
        };
        Ok(RunLock {
            session,
            holder,
            table,
            lost,
            renewer: Some(renewer),
        })
    }

    /// Stops renewing; true when the hold was lost on the way.
    fn stop_renewing(&mut self) -> bool {
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        self.lost.load(Ordering::SeqCst)
    }

    async fn release(mut self) {
        self.stop_renewing();
        let _ = self
            .session
            .query(
                &format!(
                    "UPDATE {} SET \"HOLDER\" = NULL, \"RUN_ID\" = NULL, \"EXPIRES_AT\" = {EPOCH} WHERE \"HOLDER\" = ?",
                    self.table
                ),
                &[Bind::from(self.holder.as_str())],
            )
            .await;
        self.session.close().await;
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
    }
}

/// The error of encoding a staged file of `table`.
fn staged_file_error(table: &str) -> impl FnOnce(parquet::errors::ParquetError) -> SinkError + '_ {
    move |source| SinkError::Parquet {
        table: table.into(),
        path: "(staged file)".into(),
        source,
    }
}

/// A staged Parquet file being written.
struct OpenFile {
    writer: ArrowWriter<Vec<u8>>,
    rows: u64,
}

impl OpenFile {
    /// Bytes it holds: the encoded file so far and the row group being
    /// built.
    fn bytes(&self) -> usize {
        self.writer.bytes_written() + self.writer.memory_size()
    }
}

/// One table of the run.
struct TablePlan {
    def: &'static TableDef,
    schema: SchemaRef,
    /// The target table exists.
    exists: bool,
    /// `--migrate=force`: dropped and created again at commit.
    recreate: bool,
    /// Registry columns the target lacks: added at commit.
    add: Vec<&'static str>,
    /// Columns the target has with the right type: what carry-forward
    /// copies.
    carry: Vec<&'static str>,
    /// History mode: `<TABLE>_LATEST` does not exist yet.
    view_missing: bool,
    /// The temporary table the run loads into.
    staging: String,
    /// The file being written (in a mutex only so that the plan is
    /// `Sync`: the transaction alone touches it).
    file: Option<std::sync::Mutex<OpenFile>>,
    files: u64,
    rows: u64,
}

struct SnowflakeTransaction {
    session: Arc<Session>,
    lock: Option<RunLock>,
    describe: String,
    /// `"DATABASE"."SCHEMA"`, for the summary.
    location: String,
    schema: String,
    run_id: String,
    history: bool,
    lease: Duration,
    file_rows: usize,
    props: WriterProperties,
    plans: Vec<TablePlan>,
    target: StageTarget,
    bytes: u64,
    /// The tables of carried and dropped ids, once made.
    carried: Option<(String, String)>,
    nonce: String,
    /// Two scopes sent the same edge: `_edges` is published deduplicated.
    repeated_edges: bool,
}

impl SnowflakeTransaction {
    fn err(&self, what: &str, e: ClientError) -> SinkError {
        match e {
            ClientError::Sink(s) => s,
            e => SinkError::Other(format!(
                "Snowflake sink {}: failed to {what}: {e}",
                self.describe
            )),
        }
    }

    async fn q(&self, what: &str, sql: &str, binds: &[Bind]) -> Result<Rows, SinkError> {
        self.session
            .query(sql, binds)
            .await
            .map_err(|e| self.err(what, e))
    }

    fn qualified(&self, table: &str) -> String {
        format!("{}.{}", sf_ident(&self.schema), sf_ident(table))
    }

    fn index(&self, table: &str) -> Result<usize, SinkError> {
        self.plans
            .iter()
            .position(|p| p.def.name == table)
            .ok_or_else(|| SinkError::Other(format!("table `{table}` is not part of this run")))
    }

    /// Closes table `i`'s open file, puts it to the stage and loads it
    /// into the staging table.
    async fn flush_file(&mut self, i: usize) -> Result<(), SinkError> {
        let Some(f) = self.plans[i].file.take() else {
            return Ok(());
        };
        let f = f.into_inner().unwrap_or_else(|e| e.into_inner());
        let table = self.plans[i].def.name;
        let data = f.writer.into_inner().map_err(staged_file_error(table))?;
        self.plans[i].files += 1;
        let seq = self.plans[i].files;
        let name = format!("part-{seq:05}.parquet");
        self.bytes += data.len() as u64;
        let from = match &self.target {
            StageTarget::Internal(stage) => {
                let put = self
                    .session
                    .query_data(
                        &format!(
                            "PUT 'file:///{name}' @{stage}/{table}/{seq:05}/ AUTO_COMPRESS = FALSE SOURCE_COMPRESSION = NONE OVERWRITE = TRUE"
                        ),
                        &[],
                    )
                    .await
                    .map_err(|e| self.err(&format!("put a file of `{table}` to the stage"), e))?;
                super::stage::upload(self.session.http(), &put, &name, Bytes::from(data)).await?;
                format!("@{stage}/{table}/{seq:05}/")
            }
            StageTarget::External {
                stage,
                store,
                prefix,
                run_dir,
            } => {
                let path =
                    object_store::path::Path::from(format!("{prefix}/{table}/{seq:05}/{name}"));
                store
                    .put(&path, Bytes::from(data).into())
                    .await
                    .map_err(|source| SinkError::Store {
                        what: format!("write `{path}` for stage {stage}"),
                        source,
                    })?;
                format!("{stage}/{run_dir}/{table}/{seq:05}/")
            }
        };
        let loaded = self
            .q(
                &format!("load a file into the staging table of `{table}`"),
                &format!(
                    "COPY INTO {} FROM {from} FILE_FORMAT = (TYPE = PARQUET USE_LOGICAL_TYPE = TRUE) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE ON_ERROR = ABORT_STATEMENT",
                    self.plans[i].staging
                ),
                &[],
            )
            .await?;
        let n: u64 = loaded
            .text()
            .iter()
            .filter_map(|r| r.get(3).cloned().flatten())
            .filter_map(|v| v.parse::<u64>().ok())
            .sum();
        if n != f.rows {
            return Err(SinkError::Other(format!(
                "Snowflake sink {}: COPY loaded {n} of the {} rows of file {name} of table `{table}`; nothing was committed",
                self.describe, f.rows
            )));
        }
        Ok(())
    }

    async fn flush_all(&mut self) -> Result<(), SinkError> {
        for i in 0..self.plans.len() {
            self.flush_file(i).await?;
        }
        Ok(())
    }

    /// The condition that picks the previous snapshot's rows of a target
    /// table (aliased `o`).
    fn previous(&self) -> String {
        if self.history {
            format!(
                "o.{} = (SELECT s.\"RUN_ID\" FROM {} s ORDER BY s.\"SEQ\" DESC LIMIT 1)",
                sf_ident(SF_SNAPSHOT_RUN_COLUMN),
                self.qualified(SNAPSHOTS_TABLE)
            )
        } else {
            "TRUE".into()
        }
    }

    /// `o."C"` for a carried column, as the staging table holds it (JSON
    /// as text).
    fn carried_value(def: &TableDef, col: &str) -> String {
        let json = def
            .columns
            .iter()
            .any(|c| c.name == col && c.ty == ColumnType::Json);
        if json {
            format!("TO_JSON(o.{})", sf_ident(col))
        } else {
            format!("o.{}", sf_ident(col))
        }
    }

    /// History mode needs the snapshots table before carry-forward reads
    /// it; created once.
    async fn ensure_snapshots_table(&self) -> Result<(), SinkError> {
        if self.history {
            self.q(
                "create the snapshots table",
                &format!(
                    "CREATE TABLE IF NOT EXISTS {} (\"SEQ\" NUMBER(38,0) NOT NULL, \"RUN_ID\" VARCHAR NOT NULL, \"COMMITTED_AT\" TIMESTAMP_TZ(6) NOT NULL) COMMENT = 'Runs committed in history mode, in order'",
                    self.qualified(SNAPSHOTS_TABLE)
                ),
                &[],
            )
            .await?;
        }
        Ok(())
    }

    /// Everything the publishing transaction needs that is DDL (which
    /// commits by itself in Snowflake): tables created, columns added,
    /// forced tables recreated, history views. None of it changes what a
    /// reader of the current snapshot sees, except `--migrate=force`.
    async fn prepare_targets(&mut self) -> Result<(), SinkError> {
        self.ensure_snapshots_table().await?;
        for i in 0..self.plans.len() {
            let (def, exists, recreate, add, view_missing) = {
                let p = &self.plans[i];
                (p.def, p.exists, p.recreate, p.add.clone(), p.view_missing)
            };
            let qt = self.qualified(def.name);
            if recreate {
                self.q(
                    &format!("drop table `{}` (--migrate=force)", def.name),
                    &format!("DROP TABLE IF EXISTS {qt}"),
                    &[],
                )
                .await?;
            }
            if recreate || !exists {
                self.q(
                    &format!("create table `{}`", def.name),
                    &sf_create_table_in(def, &self.schema, self.history),
                    &[],
                )
                .await?;
            }
            for col in &add {
                let ty = def
                    .columns
                    .iter()
                    .find(|c| c.name == *col)
                    .map_or("VARCHAR", |c| sf_type(c.ty));
                tracing::info!(table = def.name, column = col, "adding a new column");
                self.q(
                    &format!("add column `{col}` to `{}`", def.name),
                    &format!("ALTER TABLE {qt} ADD COLUMN {} {ty}", sf_ident(col)),
                    &[],
                )
                .await?;
            }
            if self.history && (recreate || !exists || !add.is_empty() || view_missing) {
                // A Snowflake view fixes its column list when created, so
                // it is made again whenever the table gains a column.
                let view = self.qualified(&format!("{}_LATEST", def.name.to_uppercase()));
                self.q(
                    &format!("create the view `{}_LATEST`", def.name.to_uppercase()),
                    &format!(
                        "CREATE OR REPLACE VIEW {view} COPY GRANTS AS SELECT o.* FROM {qt} o WHERE {}",
                        self.previous()
                    ),
                    &[],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Extractors send each edge of a scope once; should two scopes have
    /// sent the same edge, every repeat is named in `_issues` and the edge
    /// is published once (Snowflake does not enforce the primary key, but
    /// the tables promise it).
    async fn name_repeated_edges(&mut self) -> Result<(), SinkError> {
        let Some(edges) = self.plans.iter().find(|p| p.def.name == EDGES_TABLE) else {
            return Ok(());
        };
        let repeats = self
            .q(
                "look for repeated edges",
                &format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM {} s GROUP BY {EDGE_KEY} HAVING COUNT(*) > 1)",
                    edges.staging
                ),
                &[],
            )
            .await?
            .count();
        if repeats == 0 {
            return Ok(());
        }
        self.repeated_edges = true;
        if let Some(issues) = self.plans.iter().find(|p| p.def.name == ISSUES_TABLE) {
            self.q(
                "name repeated edges in _issues",
                &format!(
                    "INSERT INTO {} (\"_RUN_ID\", \"TABLE_NAME\", \"COLUMN_NAME\", \"RESOURCE_ID\", \"RAW_VALUE\", \"REASON\") \
                     SELECT ?, '_edges', 'edge_type', s.\"FROM_ID\", \
                            s.\"FROM_KIND\" || ' ' || s.\"FROM_ID\" || ' -> ' || s.\"TO_KIND\" || ' ' || s.\"TO_ID\" || ' (' || s.\"EDGE_TYPE\" || ')', \
                            'duplicate edge: two scopes read it; it is stored once' \
                     FROM {} s QUALIFY ROW_NUMBER() OVER (PARTITION BY {EDGE_KEY} ORDER BY s.\"_RUN_ID\") > 1",
                    issues.staging, edges.staging
                ),
                &[Bind::from(self.run_id.as_str())],
            )
            .await?;
        }
        tracing::warn!(
            edges = repeats,
            "repeated edges were stored once and named in _issues"
        );
        Ok(())
    }

    /// The publishing transaction: the lock checked, every table's rows
    /// replaced (or appended, in history mode), committed at once.
    async fn publish(&mut self) -> Result<(), SinkError> {
        self.q("start the publishing transaction", "BEGIN", &[])
            .await?;
        let result = async {
            let holder = self.lock.as_ref().map(|l| l.holder.clone()).unwrap_or_default();
            let still = self
                .q(
                    "check the run lock",
                    &format!(
                        "UPDATE {} SET \"EXPIRES_AT\" = DATEADD(second, {}, CURRENT_TIMESTAMP()) WHERE \"HOLDER\" = ?",
                        self.qualified(LOCK_TABLE),
                        self.lease.as_secs()
                    ),
                    &[Bind::from(holder)],
                )
                .await?
                .count();
            if still == 0 {
                return Err(SinkError::Conflict(format!(
                    "Snowflake sink {}: this run lost its hold on the schema to another run before it could publish; nothing was committed",
                    self.describe
                )));
            }
            for p in &self.plans {
                let qt = self.qualified(p.def.name);
                let mut into: Vec<String> = p.def.columns.iter().map(|c| sf_ident(c.name)).collect();
                let mut select: Vec<String> = p
                    .def
                    .columns
                    .iter()
                    .map(|c| match c.ty {
                        ColumnType::Json => format!("PARSE_JSON(s.{})", sf_ident(c.name)),
                        _ => format!("s.{}", sf_ident(c.name)),
                    })
                    .collect();
                let mut binds = Vec::new();
                if self.history {
                    into.push(sf_ident(SF_SNAPSHOT_RUN_COLUMN));
                    select.push("?".into());
                    binds.push(Bind::from(self.run_id.as_str()));
                } else {
                    self.q(
                        &format!("replace the rows of `{}`", p.def.name),
                        &format!("DELETE FROM {qt}"),
                        &[],
                    )
                    .await?;
                }
                // Repeated edges (two scopes read one) are published once;
                // `name_repeated_edges` said so in `_issues`.
                let once = if p.def.name == EDGES_TABLE && self.repeated_edges {
                    format!(" QUALIFY ROW_NUMBER() OVER (PARTITION BY {EDGE_KEY} ORDER BY s.\"_RUN_ID\") = 1")
                } else {
                    String::new()
                };
                self.q(
                    &format!("publish the rows of `{}`", p.def.name),
                    &format!(
                        "INSERT INTO {qt} ({}) SELECT {} FROM {} s{once}",
                        into.join(", "),
                        select.join(", "),
                        p.staging
                    ),
                    &binds,
                )
                .await?;
            }
            if self.history {
                let snapshots = self.qualified(SNAPSHOTS_TABLE);
                self.q(
                    "record the run",
                    &format!(
                        "INSERT INTO {snapshots} (\"SEQ\", \"RUN_ID\", \"COMMITTED_AT\") SELECT COALESCE(MAX(\"SEQ\"), 0) + 1, ?, CURRENT_TIMESTAMP() FROM {snapshots}"
                    ),
                    &[Bind::from(self.run_id.as_str())],
                )
                .await?;
            }
            self.q("commit", "COMMIT", &[]).await?;
            Ok(())
        }
        .await;
        if result.is_err() {
            let _ = self.session.query("ROLLBACK", &[]).await;
        }
        result
    }

    async fn finish(&mut self) {
        let mut own: Vec<String> = self.plans.iter().map(|p| p.staging.clone()).collect();
        if let Some((c, d)) = self.carried.take() {
            own.extend([c, d]);
        }
        for t in own.iter().filter(|t| !t.is_empty()) {
            if let Err(e) = self
                .session
                .query(&format!("DROP TABLE IF EXISTS {t}"), &[])
                .await
            {
                tracing::warn!(table = %t, error = %e, "snowflake: could not drop a staging table; the next run drops it");
            }
        }
        if let StageTarget::External { store, prefix, .. } = &self.target {
            use futures::TryStreamExt;
            let base = object_store::path::Path::from(prefix.as_str());
            let files: Vec<_> = store
                .list(Some(&base))
                .map_ok(|m| m.location)
                .try_collect()
                .await
                .unwrap_or_default();
            for f in files {
                let _ = store.delete(&f).await;
            }
        }
        if let Some(l) = self.lock.take() {
            l.release().await;
        }
        self.session.close().await;
    }
}

#[async_trait]
impl SinkTransaction for SnowflakeTransaction {
    async fn write(
        &mut self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> Result<(), SinkError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let i = self.index(table.name)?;
        let mut f = match self.plans[i].file.take() {
            Some(f) => f.into_inner().unwrap_or_else(|e| e.into_inner()),
            None => OpenFile {
                writer: ArrowWriter::try_new(
                    Vec::new(),
                    self.plans[i].schema.clone(),
                    Some(self.props.clone()),
                )
                .map_err(staged_file_error(table.name))?,
                rows: 0,
            },
        };
        let rows = batch.num_rows() as u64;
        f.writer
            .write(&batch)
            .map_err(staged_file_error(table.name))?;
        f.rows += rows;
        let full = f.rows >= self.file_rows as u64 || f.bytes() >= FILE_BYTES;
        self.plans[i].file = Some(std::sync::Mutex::new(f));
        self.plans[i].rows += rows;
        if full {
            return self.flush_file(i).await;
        }
        // Too much in all: the largest open file goes up now.
        let mut total = 0;
        let mut largest = (0, i);
        for (j, p) in self.plans.iter_mut().enumerate() {
            if let Some(f) = p.file.as_mut() {
                let b = f.get_mut().unwrap_or_else(|e| e.into_inner()).bytes();
                total += b;
                if b > largest.0 {
                    largest = (b, j);
                }
            }
        }
        if total > OPEN_FILES_BYTES {
            self.flush_file(largest.1).await?;
        }
        Ok(())
    }

    async fn carry_forward(
        &mut self,
        failed: &[ScopeKey],
        oldest: DateTime<Utc>,
    ) -> Result<Vec<Carried>, SinkError> {
        self.flush_all().await?;
        let mut counts = vec![Carried::default(); failed.len()];
        if failed.is_empty() {
            return Ok(counts);
        }
        self.ensure_snapshots_table().await?;
        let (carried, dropped_ids) = match &self.carried {
            Some(c) => c.clone(),
            None => {
                let mut names = Vec::new();
                for t in ["CARRIED", "DROPPED"] {
                    let name = format!(
                        "{}.{}",
                        sf_ident(&self.schema),
                        sf_ident(&format!("{STAGING_PREFIX}{}_{t}", self.nonce))
                    );
                    self.q(
                        "prepare carry-forward",
                        &format!("CREATE TRANSIENT TABLE {name} (\"ID\" VARCHAR)"),
                        &[],
                    )
                    .await?;
                    names.push(name);
                }
                let c = (names[0].clone(), names[1].clone());
                self.carried = Some(c.clone());
                c
            }
        };
        let oldest = oldest.to_rfc3339_opts(SecondsFormat::Micros, true);
        let previous = self.previous();
        for (k, key) in failed.iter().enumerate() {
            for p in &self.plans {
                let TableKind::Resource { cloud, service } = p.def.kind else {
                    continue;
                };
                if cloud != key.cloud
                    || service != key.service
                    || p.carry.is_empty()
                    || !p.exists
                    || p.recreate
                {
                    continue;
                }
                let source = self.qualified(p.def.name);
                let staging = &p.staging;
                let scope = format!(
                    "FROM {source} o WHERE {previous} AND o.\"ACCOUNT_ID\" = ? AND (? = 'global' OR o.\"REGION\" = ?) \
                     AND NOT EXISTS (SELECT 1 FROM {staging} n WHERE n.\"_ID\" = o.\"_ID\")"
                );
                let binds = |with_oldest: bool| {
                    let mut b = vec![
                        Bind::from(key.account_id.as_str()),
                        Bind::from(key.region.as_str()),
                        Bind::from(key.region.as_str()),
                    ];
                    if with_oldest {
                        b.push(Bind::from(oldest.as_str()));
                    }
                    b
                };
                let what = format!("carry table `{}` forward", p.def.name);
                let young = "o.\"_SYNCED_AT\" >= CAST(? AS TIMESTAMP_TZ)";
                let old =
                    "(o.\"_SYNCED_AT\" < CAST(? AS TIMESTAMP_TZ) OR o.\"_SYNCED_AT\" IS NULL)";
                // Ids first: once the rows are in the staging table, the
                // NOT EXISTS above no longer finds them.
                self.q(
                    &what,
                    &format!("INSERT INTO {carried} (\"ID\") SELECT o.\"_ID\" {scope} AND {young}"),
                    &binds(true),
                )
                .await?;
                let dropped = self
                    .q(
                        &what,
                        &format!(
                            "INSERT INTO {dropped_ids} (\"ID\") SELECT o.\"_ID\" {scope} AND {old}"
                        ),
                        &binds(true),
                    )
                    .await?
                    .count();
                let into: Vec<String> = p.carry.iter().map(|c| sf_ident(c)).collect();
                let select: Vec<String> = p
                    .carry
                    .iter()
                    .map(|c| Self::carried_value(p.def, c))
                    .collect();
                let n = self
                    .q(
                        &what,
                        &format!(
                            "INSERT INTO {staging} ({}) SELECT {} {scope} AND {young}",
                            into.join(", "),
                            select.join(", ")
                        ),
                        &binds(true),
                    )
                    .await?
                    .count();
                counts[k].rows += n;
                counts[k].dropped += dropped;
            }
        }
        // Edges touching a carried resource, unless this run has them.
        if let Some(e) = self
            .plans
            .iter()
            .find(|p| p.def.name == EDGES_TABLE && !p.carry.is_empty() && p.exists && !p.recreate)
        {
            let into: Vec<String> = e.carry.iter().map(|c| sf_ident(c)).collect();
            let select: Vec<String> = e
                .carry
                .iter()
                .map(|c| Self::carried_value(e.def, c))
                .collect();
            let staging = &e.staging;
            self.q(
                "carry edges forward",
                &format!(
                    "INSERT INTO {staging} ({}) SELECT {} FROM {} o WHERE {previous} \
                     AND (o.\"FROM_ID\" IN (SELECT \"ID\" FROM {carried}) OR o.\"TO_ID\" IN (SELECT \"ID\" FROM {carried})) \
                     AND o.\"FROM_ID\" NOT IN (SELECT \"ID\" FROM {dropped_ids}) \
                     AND o.\"TO_ID\" NOT IN (SELECT \"ID\" FROM {dropped_ids}) \
                     AND NOT EXISTS (SELECT 1 FROM {staging} n WHERE n.\"FROM_ID\" = o.\"FROM_ID\" AND n.\"TO_ID\" = o.\"TO_ID\" AND n.\"EDGE_TYPE\" = o.\"EDGE_TYPE\")",
                    into.join(", "),
                    select.join(", "),
                    self.qualified(e.def.name)
                ),
                &[],
            )
            .await?;
        }
        Ok(counts)
    }

    async fn commit(mut self: Box<Self>) -> Result<CommitInfo, SinkError> {
        let clock = Instant::now();
        let result = async {
            self.flush_all().await?;
            tracing::info!(ms = clock.elapsed().as_millis() as u64, "snowflake: last file loaded into staging");
            let lost = self.lock.as_mut().map(|l| l.stop_renewing()).unwrap_or(false);
            if lost {
                return Err(SinkError::Conflict(format!(
                    "Snowflake sink {}: this run lost its hold on the schema to another run; nothing was committed",
                    self.describe
                )));
            }
            self.name_repeated_edges().await?;
            self.prepare_targets().await?;
            let clock = Instant::now();
            self.publish().await?;
            tracing::info!(ms = clock.elapsed().as_millis() as u64, "snowflake: snapshot published");
            Ok(())
        }
        .await;
        self.finish().await;
        result?;
        let rows: u64 = self.plans.iter().map(|p| p.rows).sum();
        Ok(CommitInfo {
            location: format!(
                "{}: {} tables, {rows} rows ({} mode)",
                self.location,
                self.plans.len(),
                if self.history { "history" } else { "snapshot" }
            ),
            objects: self.plans.len() as u64,
            bytes: self.bytes,
        })
    }

    async fn abort(mut self: Box<Self>) -> Result<(), SinkError> {
        // The stage is temporary (it goes with the session); the staging
        // tables are dropped here, or by the next run.
        self.finish().await;
        Ok(())
    }
}
