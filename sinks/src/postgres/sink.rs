use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use bytes::Bytes;
use cloudtab_schema::{TableDef, TableKind, EDGES_TABLE, ISSUES_TABLE};
use futures::SinkExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use super::config::{LoadMode, Migrate, PostgresSinkConfig, SslMode};
use super::copy;
use crate::ddl::{
    pg_create_partition, pg_create_table, pg_partition_indexes, pg_type, qualified, quote_ident,
    PgLayout, SNAPSHOT_RUN_COLUMN,
};
use crate::sink::{Carried, CommitInfo, RunInfo, ScopeKey, Sink, SinkError, SinkTransaction};

/// First key of the advisory lock that keeps two runs out of one schema
/// (`clou` in ASCII); the second is `hashtext(schema)`.
const LOCK_CLASS: i32 = 0x636c_6f75;

/// The lock's first key, for tests that hold the lock themselves.
#[cfg(test)]
pub(crate) const LOCK_CLASS_FOR_TESTS: i32 = LOCK_CLASS;

/// History mode's record of committed runs, in commit order: what
/// `<table>_latest` and carry-forward take as the latest snapshot.
const SNAPSHOTS_TABLE: &str = "_cloudtab_snapshots";

/// Encoded COPY streams waiting for the loader; bounds memory.
const LOADER_QUEUE: usize = 4;

/// Longest a single try of the swap waits for a table's lock.
const SWAP_TRY: Duration = Duration::from_secs(5);

/// The PostgreSQL sink. See the module docs for how a snapshot is swapped
/// in.
pub struct PostgresSink {
    config: PostgresSinkConfig,
    describe: String,
}

impl PostgresSink {
    /// Checks the configuration (no I/O) and builds the sink.
    pub fn build(config: PostgresSinkConfig) -> Result<Self, SinkError> {
        config.validate()?;
        let describe = format!(
            "{} (schema {})",
            config.redacted_url(),
            quote_ident(&config.schema)
        );
        Ok(PostgresSink { config, describe })
    }

    fn layout(&self) -> PgLayout {
        match self.config.mode {
            LoadMode::Snapshot => PgLayout::Snapshot,
            LoadMode::History => PgLayout::History,
        }
    }

    /// Opens a connection; its driver runs on its own task.
    pub(crate) async fn connect(&self) -> Result<Client, SinkError> {
        let r = self.config.resolve()?;
        let fail = |e: tokio_postgres::Error| {
            SinkError::Other(format!(
                "cannot connect to {}: {}; check that the server runs, the URL, the password and `sslmode`",
                self.config.redacted_url(),
                pg_message(&e)
            ))
        };
        let mut pg = r.pg;
        if pg.get_password().is_some() && r.sslmode != SslMode::VerifyFull {
            // Once per process: every connection of the run would say it.
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                tracing::warn!(
                    sink = %self.describe,
                    sslmode = ?r.sslmode,
                    "sending the PostgreSQL password over a connection whose server certificate is not verified: an active attacker can read it; use sslmode=verify-full with sslrootcert"
                );
            });
        }
        let tls = super::tls::connector(r.sslmode, r.sslrootcert.as_deref())?;
        pg.ssl_mode(match r.sslmode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        });
        let client = match tls {
            None => {
                let (client, conn) = pg.connect(tokio_postgres::NoTls).await.map_err(fail)?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "postgres connection ended");
                    }
                });
                client
            }
            Some(tls) => {
                let (client, conn) = pg.connect(tls).await.map_err(fail)?;
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "postgres connection ended");
                    }
                });
                client
            }
        };
        // A run waits on slow APIs between batches with its transaction
        // open: a server's idle-in-transaction or statement timeout must not
        // end it. These settings are this session's only.
        client
            .batch_execute("SET idle_in_transaction_session_timeout = 0; SET statement_timeout = 0")
            .await
            .map_err(|e| self.sql_error("set the session's timeouts", &e))?;
        Ok(client)
    }

    /// What exists in the schema for `tables`, and what has to change.
    async fn plan(
        &self,
        client: &Client,
        tables: &[&'static TableDef],
    ) -> Result<Vec<TablePlan>, SinkError> {
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        let rows = client
            .query(
                "SELECT c.relname::text, c.relkind::text, a.attname::text, \
                        format_type(a.atttypid, a.atttypmod) \
                 FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
                 WHERE n.nspname = $1 AND c.relname = ANY($2) \
                 ORDER BY c.relname, a.attnum",
                &[&self.config.schema, &names],
            )
            .await
            .map_err(|e| self.sql_error("read the existing tables", &e))?;
        let mut existing: HashMap<String, (String, Vec<(String, String)>)> = HashMap::new();
        for row in rows {
            let e = existing
                .entry(row.get::<_, String>(0))
                .or_insert_with(|| (row.get(1), Vec::new()));
            e.1.push((row.get(2), row.get(3)));
        }
        let layout = self.layout();
        let mut plans = Vec::new();
        let mut problems = Vec::new();
        for t in tables {
            let Some((kind, cols)) = existing.remove(t.name) else {
                plans.push(TablePlan::new(t, Action::Create, Vec::new(), Vec::new()));
                continue;
            };
            let mut want: Vec<(&str, &str)> =
                t.columns.iter().map(|c| (c.name, pg_type(c.ty))).collect();
            if layout == PgLayout::History {
                want.push((SNAPSHOT_RUN_COLUMN, "text"));
            }
            let mut trouble = Vec::new();
            let expected_kind = if layout == PgLayout::Snapshot {
                "p"
            } else {
                "r"
            };
            if kind != expected_kind {
                trouble.push(match (kind.as_str(), layout) {
                    ("p", PgLayout::History) => "it was loaded in snapshot mode (a partitioned table), not history mode".to_string(),
                    ("r", PgLayout::Snapshot) if cols.iter().any(|(n, _)| n == SNAPSHOT_RUN_COLUMN) => "it was loaded in history mode, not snapshot mode".to_string(),
                    ("r", PgLayout::Snapshot) => "it is a plain table; cloudtab keeps snapshot tables partitioned so that a run can be swapped in atomically".to_string(),
                    (k, _) => format!("it is not a table (relkind `{k}`)"),
                });
            }
            let mut carry = Vec::new();
            for (name, ty) in &cols {
                match want.iter().find(|(n, _)| n == name) {
                    None => trouble.push(format!(
                        "column `{name}` ({ty}) is no longer in cloudtab's schema"
                    )),
                    Some((_, w)) if w != ty => trouble.push(format!(
                        "column `{name}` is {ty} in the database but {w} in cloudtab's schema"
                    )),
                    Some((n, _)) if *n != SNAPSHOT_RUN_COLUMN => carry.push(*n),
                    Some(_) => {}
                }
            }
            let add: Vec<&'static str> = t
                .columns
                .iter()
                .map(|c| c.name)
                .filter(|n| !cols.iter().any(|(c, _)| c == n))
                .collect();
            if trouble.is_empty() {
                plans.push(TablePlan::new(t, Action::Keep, add, carry));
            } else if self.config.migrate == Migrate::Force {
                tracing::warn!(table = t.name, changes = %trouble.join("; "), "--migrate=force: the table will be dropped and created again");
                plans.push(TablePlan::new(t, Action::Recreate, Vec::new(), carry));
            } else {
                problems.push(format!(
                    "table {}: {}",
                    qualified(&self.config.schema, t.name),
                    trouble.join("; ")
                ));
            }
        }
        if !problems.is_empty() {
            return Err(crate::sink::schema_mismatch(
                "the database",
                &problems,
                "their data and the views on them go",
            ));
        }
        Ok(plans)
    }

    fn sql_error(&self, what: &str, e: &tokio_postgres::Error) -> SinkError {
        SinkError::Other(format!(
            "PostgreSQL sink {}: failed to {what}: {}",
            self.describe,
            pg_message(e)
        ))
    }

    /// Takes the schema's advisory lock, waiting up to `lock_wait`.
    async fn lock(&self, client: &Client) -> Result<(), SinkError> {
        let start = Instant::now();
        let mut told = false;
        loop {
            let got: bool = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext($2))",
                    &[&LOCK_CLASS, &self.config.schema],
                )
                .await
                .map_err(|e| self.sql_error("take the run lock", &e))?
                .get(0);
            if got {
                return Ok(());
            }
            let holder = client
                .query_opt(
                    "SELECT a.pid, a.application_name, a.backend_start::text \
                     FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted \
                       AND l.classid = ($1::bigint & 4294967295)::oid \
                       AND l.objid = (hashtext($2)::bigint & 4294967295)::oid \
                     LIMIT 1",
                    &[&(LOCK_CLASS as i64), &self.config.schema],
                )
                .await
                .ok()
                .flatten()
                .map(|r| {
                    // Without pg_read_all_stats, another role's session
                    // shows NULL in most columns: say what is known.
                    let pid = r.try_get::<_, Option<i32>>(0).ok().flatten();
                    let text = |i: usize| r.try_get::<_, Option<String>>(i).ok().flatten();
                    let mut s = match pid {
                        Some(p) => format!("backend pid {p}"),
                        None => "a backend".to_string(),
                    };
                    match text(1).filter(|a| !a.is_empty()) {
                        Some(app) => s.push_str(&format!(" ({app})")),
                        None => s.push_str(" (application not visible to this role)"),
                    }
                    if let Some(since) = text(2) {
                        s.push_str(&format!(", connected since {since}"));
                    }
                    s
                })
                .unwrap_or_else(|| "a session that just ended".into());
            if start.elapsed() >= self.config.lock_wait() {
                return Err(SinkError::Conflict(format!(
                    "another cloudtab run is writing to schema {} ({holder}); gave up after {} s. Wait for it to finish, or raise `lock_wait_secs`",
                    quote_ident(&self.config.schema),
                    self.config.lock_wait_secs
                )));
            }
            if !told {
                tracing::warn!(schema = %self.config.schema, holder = %holder, "another cloudtab run is writing to this schema; waiting for it");
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// What happens to one table in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// It does not exist yet.
    Create,
    /// It exists and matches (perhaps missing new columns).
    Keep,
    /// `--migrate=force`: dropped and created again at the swap.
    Recreate,
}

struct TablePlan {
    def: &'static TableDef,
    action: Action,
    /// Registry columns the table lacks: added at the swap.
    add: Vec<&'static str>,
    /// Columns the previous snapshot has with the right type: what
    /// carry-forward copies.
    carry: Vec<&'static str>,
    /// Where this run's rows go: a new partition (snapshot) or the table
    /// itself (history).
    target: String,
}

impl TablePlan {
    fn new(
        def: &'static TableDef,
        action: Action,
        add: Vec<&'static str>,
        carry: Vec<&'static str>,
    ) -> Self {
        TablePlan {
            def,
            action,
            add,
            carry,
            target: def.name.to_string(),
        }
    }
}

/// The name of a table's partition for a run: `<table>__<run>_<nonce>`
/// (the random 32-bit nonce keeps it apart from the current partition even
/// if a run id repeats; 16 bits once collided in a test that repeats run
/// ids), cut to PostgreSQL's 63-byte identifiers.
fn partition_name(table: &str, run_id: &str, index: usize, nonce: u32) -> String {
    let run: String = run_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let run = format!("{run}_{nonce:08x}");
    let name = format!("{table}__{run}");
    if name.len() <= 63 {
        name
    } else {
        let run = &run[run.len().saturating_sub(24)..];
        format!("_part{index}__{run}")
    }
}

/// A PostgreSQL error with the server's message, detail and hint.
pub(crate) fn pg_message(e: &tokio_postgres::Error) -> String {
    if e.is_closed() {
        return "the server closed the connection (terminated by an administrator, a restart or the network); \
                the server rolls the run's transaction back, so the previous snapshot stays"
            .into();
    }
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        use tokio_postgres::error::SqlState;
        if [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN].contains(db.code()) {
            s.push_str(
                "; the server rolls the run's transaction back, so the previous snapshot stays",
            );
        }
        return s;
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(&format!(": {inner}"));
        src = inner.source();
    }
    s
}

#[async_trait]
impl Sink for PostgresSink {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn healthcheck(&self) -> Result<(), SinkError> {
        let client = self.connect().await?;
        let row = client
            .query_one(
                "SELECT 1, current_user::text, current_database()::text, \
                        EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1), \
                        has_database_privilege(current_database(), 'CREATE')",
                &[&self.config.schema],
            )
            .await
            .map_err(|e| self.sql_error("run a health check query", &e))?;
        let (user, db, exists, can_create_schema): (String, String, bool, bool) =
            (row.get(1), row.get(2), row.get(3), row.get(4));
        let schema = quote_ident(&self.config.schema);
        if exists {
            let ok: bool = client
                .query_one(
                    "SELECT has_schema_privilege($1, 'CREATE') AND has_schema_privilege($1, 'USAGE')",
                    &[&self.config.schema],
                )
                .await
                .map_err(|e| self.sql_error("check privileges", &e))?
                .get(0);
            if !ok {
                return Err(SinkError::Other(format!(
                    "user `{user}` may not create tables in schema {schema} of database `{db}`; run `GRANT USAGE, CREATE ON SCHEMA {schema} TO {}` or pick another schema",
                    quote_ident(&user)
                )));
            }
        } else if !can_create_schema {
            return Err(SinkError::Other(format!(
                "schema {schema} does not exist in database `{db}` and user `{user}` may not create it; run `CREATE SCHEMA {schema} AUTHORIZATION {}` as an owner, or pick another schema",
                quote_ident(&user)
            )));
        }
        let tables: Vec<&'static TableDef> = cloudtab_schema::Registry::builtin()
            .tables()
            .iter()
            .collect();
        self.plan(&client, &tables).await?;
        Ok(())
    }

    async fn begin(&self, run: &RunInfo) -> Result<Box<dyn SinkTransaction>, SinkError> {
        crate::sink::validate_run_id(&run.run_id)?;
        let client = Arc::new(self.connect().await?);
        self.lock(&client).await?;
        let tables: Vec<&'static TableDef> = run.tables.iter().map(|(t, _)| *t).collect();
        let mut plans = self.plan(&client, &tables).await?;
        let schema = &self.config.schema;
        let layout = self.layout();
        client
            .batch_execute(&format!(
                "BEGIN; CREATE SCHEMA IF NOT EXISTS {}",
                quote_ident(schema)
            ))
            .await
            .map_err(|e| self.sql_error("start the run's transaction", &e))?;
        let nonce = {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish() as u32
        };
        let mut statements = Vec::new();
        if layout == PgLayout::History {
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {} (\"seq\" bigserial PRIMARY KEY, \"run_id\" text NOT NULL UNIQUE, \"committed_at\" timestamptz NOT NULL DEFAULT now())",
                qualified(schema, SNAPSHOTS_TABLE)
            ));
        }
        for (i, p) in plans.iter_mut().enumerate() {
            if p.action == Action::Create {
                statements.extend(pg_create_table(p.def, schema, layout));
            }
            if layout == PgLayout::Snapshot {
                p.target = partition_name(p.def.name, &run.run_id, i, nonce);
                statements.push(pg_create_partition(p.def, schema, &p.target));
            } else if p.action != Action::Recreate {
                // History mode loads into the table itself, so a column the
                // table lacks is added now, in the run's transaction: it
                // commits with the run or not at all.
                for col in &p.add {
                    tracing::info!(table = p.def.name, column = col, "adding a new column");
                    statements.push(add_column(p.def, schema, col));
                }
            } else {
                // History with --migrate=force: the old table goes at once
                // (its lock is held for the whole run; documented).
                statements.push(format!(
                    "DROP VIEW IF EXISTS {}",
                    qualified(schema, &format!("{}_latest", p.def.name))
                ));
                statements.push(format!("DROP TABLE {}", qualified(schema, p.def.name)));
                statements.extend(pg_create_table(p.def, schema, layout));
                p.carry.clear();
            }
        }
        for s in &statements {
            if let Err(e) = client.simple_query(s).await {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(self.sql_error("create the run's tables", &e));
            }
        }
        if layout == PgLayout::History {
            let seen = client
                .query_opt(
                    &format!(
                        "SELECT 1 FROM {} WHERE \"run_id\" = $1",
                        qualified(schema, SNAPSHOTS_TABLE)
                    ),
                    &[&run.run_id],
                )
                .await
                .map_err(|e| self.sql_error("read the committed runs", &e))?;
            if seen.is_some() {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(SinkError::Conflict(format!(
                    "run `{}` was committed to schema {} already; every run needs a new id",
                    run.run_id,
                    quote_ident(schema)
                )));
            }
        }
        let (tx, rx) = mpsc::channel(LOADER_QUEUE);
        let loader = tokio::spawn(load(client.clone(), rx, self.describe.clone()));
        Ok(Box::new(PostgresTransaction {
            client,
            schema: schema.clone(),
            describe: self.describe.clone(),
            run_id: run.run_id.clone(),
            layout,
            plans,
            loader: Some((tx, loader)),
            rows: 0,
            swap_wait: self.config.swap_wait(),
        }))
    }
}

/// Work for the loader task.
enum Load {
    /// One complete binary COPY stream into a table.
    Copy {
        target: String,
        columns: String,
        data: Bytes,
    },
    /// Answers once everything before it is loaded.
    Flush(oneshot::Sender<()>),
}

/// Runs the COPY statements one after the other, so that encoding the
/// next batch overlaps with the server loading this one. Returns the
/// first error; after it, nothing more is loaded.
async fn load(
    client: Arc<Client>,
    mut rx: mpsc::Receiver<Load>,
    describe: String,
) -> Result<(), SinkError> {
    while let Some(job) = rx.recv().await {
        match job {
            Load::Flush(done) => {
                let _ = done.send(());
            }
            Load::Copy {
                target,
                columns,
                data,
            } => {
                let sql = format!("COPY {target} ({columns}) FROM STDIN (FORMAT binary)");
                let result = async {
                    let sink = client.copy_in::<_, Bytes>(&sql).await?;
                    futures::pin_mut!(sink);
                    sink.send(data).await?;
                    sink.finish().await
                }
                .await;
                if let Err(e) = result {
                    return Err(SinkError::Other(format!(
                        "PostgreSQL sink {describe}: COPY into {target} failed: {}",
                        pg_message(&e)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The loader task's queue and handle.
type Loader = (mpsc::Sender<Load>, JoinHandle<Result<(), SinkError>>);

/// One run being loaded: everything happens in one transaction on one
/// connection, which also holds the schema's advisory lock.
struct PostgresTransaction {
    client: Arc<Client>,
    schema: String,
    describe: String,
    run_id: String,
    layout: PgLayout,
    plans: Vec<TablePlan>,
    loader: Option<Loader>,
    rows: u64,
    /// How long the swap may wait for readers, in all.
    swap_wait: Duration,
}

impl PostgresTransaction {
    fn plan(&self, table: &str) -> Result<&TablePlan, SinkError> {
        self.plans
            .iter()
            .find(|p| p.def.name == table)
            .ok_or_else(|| SinkError::Other(format!("table `{table}` is not part of this run")))
    }

    /// The swap statements of the commit (see [`Self::commit`]).
    async fn swap(&self, schema: &str) -> Result<(), SinkError> {
        for p in &self.plans {
            let qt = qualified(schema, p.def.name);
            if p.action == Action::Recreate && self.layout == PgLayout::Snapshot {
                self.execute(
                    &format!("drop table `{}` (--migrate=force)", p.def.name),
                    &format!("DROP TABLE {qt}"),
                )
                .await?;
                for stmt in pg_create_table(p.def, schema, self.layout) {
                    self.execute(&format!("recreate table `{}`", p.def.name), &stmt)
                        .await?;
                }
            }
            // History mode added its new columns in `begin`: it loads into
            // the table itself.
            for col in p.add.iter().filter(|_| self.layout == PgLayout::Snapshot) {
                tracing::info!(table = p.def.name, column = col, "adding a new column");
                self.execute(
                    &format!("add column `{col}` to `{}`", p.def.name),
                    &add_column(p.def, schema, col),
                )
                .await?;
            }
            if self.layout == PgLayout::Snapshot {
                let old: Option<String> = self
                    .client
                    .query_opt(
                        "SELECT c.relname::text FROM pg_partitioned_table pt \
                         JOIN pg_class c ON c.oid = pt.partdefid \
                         WHERE pt.partrelid = $1::text::regclass",
                        &[&qt],
                    )
                    .await
                    .map_err(|e| self.err("find the current snapshot", e))?
                    .map(|r| r.get(0));
                if let Some(old) = old {
                    let qo = qualified(schema, &old);
                    self.execute(
                        &format!("detach the previous snapshot of `{}`", p.def.name),
                        &format!("ALTER TABLE {qt} DETACH PARTITION {qo}"),
                    )
                    .await?;
                    self.execute(
                        &format!("drop the previous snapshot of `{}`", p.def.name),
                        &format!("DROP TABLE {qo}"),
                    )
                    .await?;
                }
                self.execute(
                    &format!("attach the new snapshot of `{}`", p.def.name),
                    &format!(
                        "ALTER TABLE {qt} ATTACH PARTITION {} DEFAULT",
                        qualified(schema, &p.target)
                    ),
                )
                .await?;
            } else {
                let view = qualified(schema, &format!("{}_latest", p.def.name));
                let filter = self.previous_snapshot("t");
                self.execute(
                    &format!("create the view `{}_latest`", p.def.name),
                    &format!(
                        "CREATE OR REPLACE VIEW {view} AS SELECT t.* FROM {qt} t WHERE {filter}"
                    ),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Builds the key and indexes of the new `_edges` rows. Extractors
    /// send each edge of a scope once; should two scopes have sent the same
    /// edge, the key fails (unique violation): then every repeat is
    /// deleted, named in `_issues`, and the key built again, rather than
    /// failing the run after the whole load.
    async fn index_edges(&self, p: &TablePlan, statements: &[String]) -> Result<(), SinkError> {
        let what = "index the new rows of `_edges`";
        self.execute(what, "SAVEPOINT cloudtab_keys").await?;
        let mut first = Ok(());
        for stmt in statements {
            first = self.execute(what, stmt).await.map(|_| ());
            if first.is_err() {
                break;
            }
        }
        match first {
            Ok(()) => self
                .execute(what, "RELEASE SAVEPOINT cloudtab_keys")
                .await
                .map(|_| ()),
            Err(e) if e.sqlstate() == Some("23505") => {
                self.execute(what, "ROLLBACK TO SAVEPOINT cloudtab_keys")
                    .await?;
                let edges = qualified(&self.schema, &p.target);
                let delete = format!(
                    "DELETE FROM {edges} a USING {edges} b \
                     WHERE a.\"from_id\" = b.\"from_id\" AND a.\"to_id\" = b.\"to_id\" \
                       AND a.\"edge_type\" = b.\"edge_type\" AND a.ctid > b.ctid \
                     RETURNING a.\"from_id\", a.\"from_kind\", a.\"to_id\", a.\"to_kind\", a.\"edge_type\""
                );
                let issues = self.plans.iter().find(|q| q.def.name == ISSUES_TABLE);
                let removed = match issues {
                    Some(q) => {
                        let sql = format!(
                            "WITH gone AS ({delete}) \
                             INSERT INTO {} (\"_run_id\", \"table_name\", \"column_name\", \"resource_id\", \"raw_value\", \"reason\") \
                             SELECT $1, '_edges', 'edge_type', from_id, \
                                    from_kind || ' ' || from_id || ' -> ' || to_kind || ' ' || to_id || ' (' || edge_type || ')', \
                                    'duplicate edge: two scopes read it; it is stored once' \
                             FROM gone",
                            qualified(&self.schema, &q.target)
                        );
                        self.client.execute(&sql, &[&self.run_id]).await
                    }
                    None => self.client.execute(&delete, &[]).await,
                }
                .map_err(|e| self.err("remove repeated edges", e))?;
                tracing::warn!(
                    edges = removed,
                    "repeated edges were stored once and named in _issues"
                );
                for stmt in statements {
                    self.execute(what, stmt).await?;
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The sessions other than this one that hold a lock on a table of the
    /// schema, described for an error message.
    async fn blockers(&self, schema: &str) -> String {
        let rows = self
            .client
            .query(
                "SELECT DISTINCT a.pid, a.usename::text, a.application_name, a.state, \
                        a.xact_start::text, c.relname::text \
                 FROM pg_locks l \
                 JOIN pg_class c ON c.oid = l.relation \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE n.nspname = $1 AND l.granted AND l.pid <> pg_backend_pid() \
                 ORDER BY a.pid LIMIT 5",
                &[&schema],
            )
            .await;
        let described: Vec<String> = match rows {
            Ok(rows) => rows
                .iter()
                .map(|r| {
                    let text = |i: usize| r.try_get::<_, Option<String>>(i).ok().flatten();
                    let pid = r.try_get::<_, Option<i32>>(0).ok().flatten();
                    format!(
                        "session pid {} (user {}, application {}, state {}, transaction since {}) on table {}",
                        pid.map_or("?".into(), |p| p.to_string()),
                        text(1).unwrap_or_else(|| "?".into()),
                        text(2).filter(|a| !a.is_empty()).unwrap_or_else(|| "?".into()),
                        text(3).unwrap_or_else(|| "?".into()),
                        text(4).unwrap_or_else(|| "?".into()),
                        text(5).unwrap_or_else(|| "?".into()),
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        if described.is_empty() {
            "another session".into()
        } else {
            described.join("; ")
        }
    }

    fn err(&self, what: &str, e: tokio_postgres::Error) -> SinkError {
        SinkError::Sql {
            message: format!(
                "PostgreSQL sink {}: failed to {what}: {}",
                self.describe,
                pg_message(&e)
            ),
            source: Box::new(e),
        }
    }

    /// The loader's error, once it has stopped.
    async fn loader_error(&mut self) -> SinkError {
        match self.loader.take() {
            Some((tx, handle)) => {
                drop(tx);
                match handle.await {
                    Ok(Err(e)) => e,
                    Ok(Ok(())) => SinkError::Other("the COPY loader stopped".into()),
                    Err(e) => SinkError::Other(format!("the COPY loader failed: {e}")),
                }
            }
            None => SinkError::Other("the COPY loader already stopped".into()),
        }
    }

    /// Waits until every batch handed over so far is loaded.
    async fn flush(&mut self) -> Result<(), SinkError> {
        let Some((tx, _)) = &self.loader else {
            return Err(self.loader_error().await);
        };
        let (done_tx, done_rx) = oneshot::channel();
        if tx.send(Load::Flush(done_tx)).await.is_err() || done_rx.await.is_err() {
            return Err(self.loader_error().await);
        }
        Ok(())
    }

    async fn execute(&self, what: &str, sql: &str) -> Result<u64, SinkError> {
        self.client
            .execute(sql, &[])
            .await
            .map_err(|e| self.err(what, e))
    }

    /// The condition that picks the previous snapshot's rows of a table
    /// (aliased `alias`): all of them in snapshot mode, those of the
    /// latest committed run in history mode (the newest row of
    /// `_cloudtab_snapshots`, written by each commit).
    fn previous_snapshot(&self, alias: &str) -> String {
        match self.layout {
            PgLayout::Snapshot => "TRUE".into(),
            PgLayout::History => format!(
                "{alias}.{c} = (SELECT s.\"run_id\" FROM {snapshots} s ORDER BY s.\"seq\" DESC LIMIT 1)",
                c = quote_ident(SNAPSHOT_RUN_COLUMN),
                snapshots = qualified(&self.schema, SNAPSHOTS_TABLE)
            ),
        }
    }

    /// The column lists of an `INSERT … SELECT` that carries rows: in
    /// history mode the new rows' `_snapshot_run_id` is `run_param`.
    fn carry_columns(&self, carry: &[&str], alias: &str, run_param: &str) -> (String, String) {
        let into: Vec<String> = carry.iter().map(|c| quote_ident(c)).collect();
        let select: Vec<String> = carry
            .iter()
            .map(|c| format!("{alias}.{}", quote_ident(c)))
            .collect();
        let (mut into, mut select) = (into.join(", "), select.join(", "));
        if self.layout == PgLayout::History {
            into.push_str(&format!(", {}", quote_ident(SNAPSHOT_RUN_COLUMN)));
            select.push_str(&format!(", {run_param}::text"));
        }
        (into, select)
    }
}

#[async_trait]
impl SinkTransaction for PostgresTransaction {
    async fn write(
        &mut self,
        table: &'static TableDef,
        batch: RecordBatch,
    ) -> Result<(), SinkError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let plan = self.plan(table.name)?;
        let mut columns: Vec<String> = table.columns.iter().map(|c| quote_ident(c.name)).collect();
        let history = self.layout == PgLayout::History;
        if history {
            columns.push(quote_ident(SNAPSHOT_RUN_COLUMN));
        }
        let target = qualified(&self.schema, &plan.target);
        let run_id = self.run_id.clone();
        let extra: Vec<&str> = if history {
            vec![run_id.as_str()]
        } else {
            vec![]
        };
        let data = copy::encode(table, &batch, &extra)?;
        self.rows += batch.num_rows() as u64;
        let Some((tx, _)) = &self.loader else {
            return Err(self.loader_error().await);
        };
        let job = Load::Copy {
            target,
            columns: columns.join(", "),
            data,
        };
        if tx.send(job).await.is_err() {
            return Err(self.loader_error().await);
        }
        Ok(())
    }

    async fn carry_forward(
        &mut self,
        failed: &[ScopeKey],
        oldest: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Carried>, SinkError> {
        self.flush().await?;
        let mut counts = vec![Carried::default(); failed.len()];
        if failed.is_empty() {
            return Ok(counts);
        }
        for sql in [
            "CREATE TEMP TABLE IF NOT EXISTS _cloudtab_carried (_id text) ON COMMIT DROP",
            "CREATE TEMP TABLE IF NOT EXISTS _cloudtab_dropped (_id text) ON COMMIT DROP",
        ] {
            self.execute("prepare carry-forward", sql).await?;
        }
        let history = self.layout == PgLayout::History;
        // In history mode $3 is the run id the carried rows are filed under.
        let since = if history { "$4" } else { "$3" };
        for (i, key) in failed.iter().enumerate() {
            for p in &self.plans {
                let TableKind::Resource { cloud, service } = p.def.kind else {
                    continue;
                };
                if cloud != key.cloud || service != key.service || p.carry.is_empty() {
                    continue;
                }
                let (into_cols, select_cols) = self.carry_columns(&p.carry, "o", "$3");
                let scope_rows = format!(
                    "FROM {source} o \
                     WHERE {previous} AND o.\"account_id\" = $1 AND ($2 = 'global' OR o.\"region\" = $2) \
                       AND NOT EXISTS (SELECT 1 FROM {target} n WHERE n.\"_id\" = o.\"_id\"{same_run})",
                    target = qualified(&self.schema, &p.target),
                    source = qualified(&self.schema, p.def.name),
                    previous = self.previous_snapshot("o"),
                    same_run = if history {
                        format!(" AND n.{} = $3", quote_ident(SNAPSHOT_RUN_COLUMN))
                    } else {
                        String::new()
                    },
                );
                let sql = format!(
                    "WITH carried AS (\
                       INSERT INTO {target} ({into_cols}) \
                       SELECT {select_cols} {scope_rows} AND o.\"_synced_at\" >= {since} \
                       RETURNING \"_id\") \
                     INSERT INTO _cloudtab_carried SELECT \"_id\" FROM carried",
                    target = qualified(&self.schema, &p.target),
                );
                // Rows read before `oldest` are left behind, and counted.
                let drop_sql = format!(
                    "INSERT INTO _cloudtab_dropped SELECT o.\"_id\" {scope_rows} \
                     AND (o.\"_synced_at\" < {since} OR o.\"_synced_at\" IS NULL)"
                );
                let what = format!("carry table `{}` forward", p.def.name);
                let (n, dropped) = if history {
                    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                        [&key.account_id, &key.region, &self.run_id, &oldest];
                    let n = self.client.execute(&sql, &params).await;
                    let n = n.map_err(|e| self.err(&what, e))?;
                    let d = self.client.execute(&drop_sql, &params).await;
                    (n, d.map_err(|e| self.err(&what, e))?)
                } else {
                    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
                        [&key.account_id, &key.region, &oldest];
                    let n = self.client.execute(&sql, &params).await;
                    let n = n.map_err(|e| self.err(&what, e))?;
                    let d = self.client.execute(&drop_sql, &params).await;
                    (n, d.map_err(|e| self.err(&what, e))?)
                };
                counts[i].rows += n;
                counts[i].dropped += dropped;
            }
        }
        // Edges touching a carried resource, unless this run has them.
        let Some(edges) = self
            .plans
            .iter()
            .find(|p| p.def.name == cloudtab_schema::EDGES_TABLE && !p.carry.is_empty())
        else {
            return Ok(counts);
        };
        let (into_cols, select_cols) = self.carry_columns(&edges.carry, "o", "$1");
        let this_run = if history {
            format!("n.{} = $1", quote_ident(SNAPSHOT_RUN_COLUMN))
        } else {
            "TRUE".into()
        };
        let sql = format!(
            "INSERT INTO {target} ({into_cols}) \
             SELECT {select_cols} FROM {source} o \
             WHERE {previous} \
               AND (o.\"from_id\" IN (SELECT _id FROM _cloudtab_carried) \
                    OR o.\"to_id\" IN (SELECT _id FROM _cloudtab_carried)) \
               AND o.\"from_id\" NOT IN (SELECT _id FROM _cloudtab_dropped) \
               AND o.\"to_id\" NOT IN (SELECT _id FROM _cloudtab_dropped) \
               AND NOT EXISTS (SELECT 1 FROM {target} n WHERE {this_run} \
                    AND n.\"from_id\" = o.\"from_id\" AND n.\"to_id\" = o.\"to_id\" \
                    AND n.\"edge_type\" = o.\"edge_type\")",
            target = qualified(&self.schema, &edges.target),
            source = qualified(&self.schema, edges.def.name),
            previous = self.previous_snapshot("o"),
        );
        let result = if history {
            self.client.execute(&sql, &[&self.run_id]).await
        } else {
            self.client.execute(&sql, &[]).await
        };
        result.map_err(|e| self.err("carry edges forward", e))?;
        Ok(counts)
    }

    async fn commit(mut self: Box<Self>) -> Result<CommitInfo, SinkError> {
        let clock = Instant::now();
        self.flush().await?;
        tracing::info!(
            ms = clock.elapsed().as_millis() as u64,
            "postgres: last COPY done"
        );
        if let Some((tx, handle)) = self.loader.take() {
            drop(tx);
            match handle.await {
                Ok(r) => r?,
                Err(e) => return Err(SinkError::Other(format!("the COPY loader failed: {e}"))),
            }
        }
        let schema = self.schema.clone();
        let result = async {
            // Keys and indexes of the loaded partitions, before any lock
            // on a table that readers use is taken.
            let clock = Instant::now();
            if self.layout == PgLayout::Snapshot {
                for p in &self.plans {
                    let statements = pg_partition_indexes(p.def, &schema, &p.target);
                    if p.def.name == EDGES_TABLE {
                        self.index_edges(p, &statements).await?;
                        continue;
                    }
                    for stmt in statements {
                        self.execute(&format!("index the new rows of `{}`", p.def.name), &stmt)
                            .await?;
                    }
                }
            }
            tracing::info!(ms = clock.elapsed().as_millis() as u64, "postgres: keys and indexes built");
            let clock = Instant::now();
            if self.layout == PgLayout::History {
                self.client
                    .execute(
                        &format!(
                            "INSERT INTO {} (\"run_id\") VALUES ($1)",
                            qualified(&schema, SNAPSHOTS_TABLE)
                        ),
                        &[&self.run_id],
                    )
                    .await
                    .map_err(|e| self.err("record the run", e))?;
            }
            // The swap: short statements that take each table's lock for
            // the rest of the transaction. A reader holding a table makes
            // it wait; each try waits `SWAP_TRY` at most, then lets the
            // readers go on (back to the savepoint) and tries again, until
            // `swap_wait_secs` have passed.
            let deadline = Instant::now() + self.swap_wait;
            let mut tries = 0u32;
            loop {
                tries += 1;
                let left = deadline.saturating_duration_since(Instant::now());
                let wait = left.clamp(Duration::from_millis(100), SWAP_TRY);
                self.execute("start the swap", "SAVEPOINT cloudtab_swap").await?;
                self.execute(
                    "limit the swap's wait",
                    &format!("SET LOCAL lock_timeout = {}", wait.as_millis()),
                )
                .await?;
                match self.swap(&schema).await {
                    Ok(()) => {
                        self.execute("end the swap", "RELEASE SAVEPOINT cloudtab_swap").await?;
                        self.execute("end the swap", "SET LOCAL lock_timeout = 0").await?;
                        break;
                    }
                    Err(e) if e.sqlstate() == Some("55P03") => {
                        self.execute("retry the swap", "ROLLBACK TO SAVEPOINT cloudtab_swap")
                            .await?;
                        if Instant::now() >= deadline {
                            let blocker = self.blockers(&schema).await;
                            return Err(SinkError::Conflict(format!(
                                "PostgreSQL sink {}: could not swap the new snapshot in: {blocker} held a table for more than {} s ({tries} tries). Nothing was committed; the previous snapshot is unchanged. End that session or raise `swap_wait_secs`",
                                self.describe,
                                self.swap_wait.as_secs()
                            )));
                        }
                        tracing::warn!(tries, "a reader holds a table the swap needs; trying again");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => return Err(e),
                }
            }
            self.client
                .batch_execute("COMMIT")
                .await
                .map_err(|e| self.err("commit", e))?;
            tracing::info!(ms = clock.elapsed().as_millis() as u64, "postgres: snapshot swapped in and committed");
            Ok::<_, SinkError>(())
        }
        .await;
        if let Err(e) = result {
            let _ = self.client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
        let _ = self
            .client
            .execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                &[&LOCK_CLASS, &schema],
            )
            .await;
        Ok(CommitInfo {
            location: format!(
                "schema {}: {} tables, {} rows ({} mode)",
                quote_ident(&schema),
                self.plans.len(),
                self.rows,
                match self.layout {
                    PgLayout::Snapshot => "snapshot",
                    PgLayout::History => "history",
                }
            ),
            objects: self.plans.len() as u64,
            bytes: 0,
        })
    }

    async fn abort(mut self: Box<Self>) -> Result<(), SinkError> {
        if let Some((tx, handle)) = self.loader.take() {
            drop(tx);
            handle.abort();
            let _ = handle.await;
        }
        // Closing the connection rolls back and releases the lock even if
        // ROLLBACK cannot be sent.
        if self.client.is_closed() {
            return Ok(());
        }
        self.client
            .batch_execute("ROLLBACK")
            .await
            .map_err(|e| self.err("roll back", e))
    }
}

/// `ALTER TABLE … ADD COLUMN` for `col` of `def`, with its type.
fn add_column(def: &TableDef, schema: &str, col: &str) -> String {
    let ty = def
        .columns
        .iter()
        .find(|c| c.name == col)
        .map_or("text", |c| c.ty.postgres_name());
    format!(
        "ALTER TABLE {} ADD COLUMN {} {ty}",
        qualified(schema, def.name),
        quote_ident(col)
    )
}
