use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray, TimestampMicrosecondArray};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use cloudtab_schema::{
    ColumnType, Edge, EdgeType, Item, Registry, Resource, TableDef, Value, BASE_COLUMNS,
    EDGES_TABLE, ISSUES_TABLE,
};

use crate::builder::{ColumnBuilder, TableBuilder};
use crate::coerce::{self, text_of};

/// Rows a table collects before it is handed out as a batch.
pub const DEFAULT_BATCH_ROWS: usize = 4096;

/// A batch is cut once a text column of it holds this many bytes, far below
/// the 2 GiB that Arrow's 32-bit offsets can address, whatever `batch_rows`
/// says.
pub const MAX_BATCH_TEXT_BYTES: usize = 256 << 20;

/// Longest raw value kept in `_issues.raw_value`, in characters.
const MAX_RAW_CHARS: usize = 1024;

/// What every row of a run shares.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// The run id, stored as `_run_id`.
    pub run_id: String,
    /// The run's start in UTC microseconds, stored as `_synced_at`.
    pub synced_at_micros: i64,
}

/// Rows flattened so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// Rows per table, system tables included.
    pub rows: BTreeMap<&'static str, u64>,
    /// Resources (rows of resource tables).
    pub resources: u64,
    /// Edges by type (`default`, `delete`).
    pub edges: BTreeMap<&'static str, u64>,
    /// Rows written to `_issues`.
    pub issues: u64,
}

impl TableCounts {
    /// The counts of all the flatteners of one run, added up.
    pub fn total<'a>(flatteners: impl IntoIterator<Item = &'a Flattener>) -> TableCounts {
        let mut total = TableCounts::default();
        for f in flatteners {
            total.add(&f.counts());
        }
        total
    }

    /// Adds `other` (the counts of another flattener of the same run).
    pub fn add(&mut self, other: &TableCounts) {
        for (t, n) in &other.rows {
            *self.rows.entry(t).or_default() += n;
        }
        for (t, n) in &other.edges {
            *self.edges.entry(t).or_default() += n;
        }
        self.resources += other.resources;
        self.issues += other.issues;
    }
}

/// Why the flattener refused an item. These are bugs in an extractor or in
/// cloudtab, never bad data from a cloud: bad values become `_issues` rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlattenError {
    /// An item names a table the registry does not have.
    #[error("unknown table `{0}`: no such table in the schema registry")]
    UnknownTable(String),
    /// A system row has the wrong number of values.
    #[error("table `{table}` has {want} columns, got {got} values")]
    Arity {
        /// Table.
        table: &'static str,
        /// Columns of the table.
        want: usize,
        /// Values given.
        got: usize,
    },
    /// Arrow refused a batch (a required column got `NULL`).
    #[error("failed to build a batch of table `{table}`: {source}")]
    Arrow {
        /// Table.
        table: &'static str,
        /// Arrow's error.
        source: ArrowError,
    },
}

/// Item stream → record batches per table. See the crate docs.
pub struct Flattener {
    batch_rows: usize,
    tables: Vec<TableBuilder>,
    index: HashMap<&'static str, usize>,
    /// The table of the last resource (see `table_index`).
    last_table: usize,
    /// Per table: own column name → position among the own columns.
    own_index: Vec<HashMap<&'static str, usize>>,
    edges: usize,
    issues: usize,
    ready: Vec<(&'static TableDef, RecordBatch)>,
    /// Rows per table (index as in `tables`), resources, edges by type
    /// (`default`, `delete`) and issues.
    rows: Vec<u64>,
    resources: u64,
    edge_counts: [u64; 2],
    issues_count: u64,
    scratch_set: Vec<bool>,
    /// Reused for every JSON text the flattener makes.
    scratch: Vec<u8>,
}

impl Flattener {
    /// A flattener for every table of `registry`.
    pub fn new(registry: &'static Registry, ctx: RunContext, batch_rows: usize) -> Self {
        let batch_rows = batch_rows.max(1);
        // `_run_id` and `_synced_at` are the same in every row the
        // flattener makes itself: one batch of each, shared by all tables.
        let run_id: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
            &ctx.run_id,
            batch_rows,
        )));
        let synced_at: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![ctx.synced_at_micros; batch_rows])
                .with_timezone("UTC"),
        );
        let tables: Vec<TableBuilder> = registry
            .tables()
            .iter()
            .map(|t| {
                // Only in the tables whose rows the flattener makes itself.
                let own_rows = t.is_resource() || t.name == EDGES_TABLE || t.name == ISSUES_TABLE;
                let repeated = if own_rows {
                    t.columns
                        .iter()
                        .enumerate()
                        .filter_map(|(i, c)| match c.name {
                            "_run_id" => Some((i, run_id.clone())),
                            "_synced_at" => Some((i, synced_at.clone())),
                            _ => None,
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                TableBuilder::new(t, batch_rows, repeated)
            })
            .collect();
        let index: HashMap<_, _> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.def.name, i))
            .collect();
        let own_index = tables
            .iter()
            .map(|t| {
                t.def
                    .own_columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name, i))
                    .collect()
            })
            .collect();
        let edges = index.get(EDGES_TABLE).copied().unwrap_or(usize::MAX);
        let issues = index.get(ISSUES_TABLE).copied().unwrap_or(usize::MAX);
        assert!(
            edges != usize::MAX && issues != usize::MAX,
            "registry lacks system tables"
        );
        let rows = vec![0; tables.len()];
        Flattener {
            batch_rows,
            tables,
            index,
            last_table: usize::MAX,
            own_index,
            edges,
            issues,
            ready: Vec::new(),
            rows,
            resources: 0,
            edge_counts: [0; 2],
            issues_count: 0,
            scratch_set: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Flattens one item. Batches that filled up wait in [`Self::take_ready`].
    pub fn push(&mut self, item: Item) -> Result<(), FlattenError> {
        match item {
            Item::Resource(r) => self.push_resource(&r, r.uid()),
            Item::Edge(e) => self.push_edge(&e),
            Item::Issue(i) => self.issue(
                i.table,
                i.column,
                i.resource_id.as_deref(),
                &Value::Text(i.raw_value),
                &i.reason,
            ),
        }
    }

    /// Batches that are full, in the order they filled.
    pub fn take_ready(&mut self) -> std::vec::Drain<'_, (&'static TableDef, RecordBatch)> {
        self.ready.drain(..)
    }

    /// Hands out every table's open rows as final batches.
    pub fn finish(&mut self) -> Result<Vec<(&'static TableDef, RecordBatch)>, FlattenError> {
        for t in 0..self.tables.len() {
            if self.tables[t].rows > 0 {
                self.flush(t)?;
            }
        }
        Ok(self.ready.drain(..).collect())
    }

    /// Counts so far.
    pub fn counts(&self) -> TableCounts {
        let mut edges = BTreeMap::new();
        for (t, n) in [
            (EdgeType::Default, self.edge_counts[0]),
            (EdgeType::Delete, self.edge_counts[1]),
        ] {
            if n > 0 {
                edges.insert(t.as_str(), n);
            }
        }
        TableCounts {
            rows: self
                .tables
                .iter()
                .zip(&self.rows)
                .filter(|(_, n)| **n > 0)
                .map(|(t, n)| (t.def.name, *n))
                .collect(),
            resources: self.resources,
            edges,
            issues: self.issues_count,
        }
    }

    /// Appends a row of a system table (`_runs`, `_scopes`): one value per
    /// column, in column order.
    pub fn push_row(&mut self, table: &str, values: &[Value]) -> Result<(), FlattenError> {
        let t = self.table_index(table)?;
        let def = self.tables[t].def;
        if values.len() != def.columns.len() {
            return Err(FlattenError::Arity {
                table: def.name,
                want: def.columns.len(),
                got: values.len(),
            });
        }
        self.tables[t].start_row();
        for (i, v) in values.iter().enumerate() {
            let col = &def.columns[i];
            let b = &mut self.tables[t].columns[i];
            let res = if col.ty == ColumnType::Json {
                coerce::append_json(b, v, &mut self.scratch)
            } else {
                coerce::append(b, v)
            };
            if let Err(reason) = res {
                self.issue(def.name, col.name, None, v, &reason)?;
            }
        }
        self.row_done(t)
    }

    fn table_index(&mut self, table: &str) -> Result<usize, FlattenError> {
        // Resources of one kind come in runs: try the last table first.
        if self.tables.get(self.last_table).map(|t| t.def.name) == Some(table) {
            return Ok(self.last_table);
        }
        let t = self
            .index
            .get(table)
            .copied()
            .ok_or_else(|| FlattenError::UnknownTable(table.to_string()))?;
        self.last_table = t;
        Ok(t)
    }

    fn push_resource(&mut self, r: &Resource, uid: &str) -> Result<(), FlattenError> {
        let t = self.table_index(r.table)?;
        let def = self.tables[t].def;
        if !def.is_resource() {
            return Err(FlattenError::UnknownTable(format!(
                "{} (not a resource table)",
                r.table
            )));
        }
        self.tables[t].start_row();
        {
            let cols = &mut self.tables[t].columns;
            // Columns 1 and 2 (`_run_id`, `_synced_at`) are repeated.
            text(&mut cols[0], Some(uid));
            text(&mut cols[3], Some(r.cloud));
            text(&mut cols[4], Some(&r.account_id));
            text(&mut cols[5], r.account_name.as_deref());
            text(&mut cols[6], Some(&r.region));
            text(&mut cols[7], r.zone.as_deref());
            text(&mut cols[8], Some(&r.id));
            text(&mut cols[9], r.name.as_deref());
            text(&mut cols[10], r.arn.as_deref());
            text(&mut cols[14], Some(r.tags.as_json()));
        }
        for (i, v) in [(11, &r.ctime), (12, &r.mtime), (13, &r.atime)] {
            if let Err(reason) = coerce::append(&mut self.tables[t].columns[i], v) {
                self.issue(def.name, def.columns[i].name, Some(uid), v, &reason)?;
            }
        }
        // Own columns: by position when the extractor kept the schema's
        // order, by name otherwise; left-out columns are NULL.
        let base = BASE_COLUMNS.len();
        let own = def.own_columns();
        self.scratch_set.clear();
        self.scratch_set.resize(own.len(), false);
        for (pos, (name, v)) in r.values.iter().enumerate() {
            let i = match own.get(pos) {
                // Extractors name columns with the schema's own literals, so
                // the pointer comparison nearly always decides.
                Some(c) if std::ptr::eq(c.name, *name) || c.name == *name => Some(pos),
                _ => self.own_index[t].get(name).copied(),
            };
            let Some(i) = i.filter(|&i| !self.scratch_set[i]) else {
                let reason = if i.is_some() {
                    "column given twice; first value kept"
                } else {
                    "column not in the table's schema"
                };
                self.issue(def.name, name, Some(uid), v, reason)?;
                continue;
            };
            self.scratch_set[i] = true;
            let col = &mut self.tables[t].columns[base + i];
            let res = if own[i].ty == ColumnType::Json {
                coerce::append_json(col, v, &mut self.scratch)
            } else {
                coerce::append(col, v)
            };
            if let Err(reason) = res {
                self.issue(def.name, own[i].name, Some(uid), v, &reason)?;
            }
        }
        for i in 0..own.len() {
            if !self.scratch_set[i] {
                self.tables[t].columns[base + i].append_null();
            }
        }
        self.resources += 1;
        self.row_done(t)
    }

    fn push_edge(&mut self, e: &Edge) -> Result<(), FlattenError> {
        let t = self.edges;
        self.tables[t].start_row();
        let cols = &mut self.tables[t].columns;
        text(&mut cols[0], Some(e.from.uid()));
        text(&mut cols[1], Some(e.from.table()));
        text(&mut cols[2], Some(e.to.uid()));
        text(&mut cols[3], Some(e.to.table()));
        text(&mut cols[4], Some(e.edge_type.as_str()));
        // Column 5 (`_run_id`) is repeated.
        self.edge_counts[usize::from(e.edge_type == EdgeType::Delete)] += 1;
        self.row_done(t)
    }

    fn issue(
        &mut self,
        table: &str,
        column: &str,
        resource_id: Option<&str>,
        raw: &Value,
        reason: &str,
    ) -> Result<(), FlattenError> {
        let t = self.issues;
        let raw = text_of(raw);
        let raw: String = raw.chars().take(MAX_RAW_CHARS).collect();
        self.tables[t].start_row();
        let cols = &mut self.tables[t].columns;
        // Column 0 (`_run_id`) is repeated.
        text(&mut cols[1], Some(table));
        text(&mut cols[2], Some(column));
        text(&mut cols[3], resource_id);
        text(&mut cols[4], Some(&raw));
        text(&mut cols[5], Some(reason));
        self.issues_count += 1;
        self.row_done(t)
    }

    fn row_done(&mut self, t: usize) -> Result<(), FlattenError> {
        self.tables[t].rows += 1;
        self.rows[t] += 1;
        // Batches are cut by rows and by bytes: Arrow's text arrays address
        // their bytes with 32-bit offsets, so 1,000 rows of 1 MB policy
        // documents must not share one batch with a million rows.
        if self.tables[t].rows >= self.batch_rows
            || self.tables[t].text_bytes() >= MAX_BATCH_TEXT_BYTES
        {
            self.flush(t)?;
        }
        Ok(())
    }

    fn flush(&mut self, t: usize) -> Result<(), FlattenError> {
        let def = self.tables[t].def;
        let batch = self.tables[t]
            .finish()
            .map_err(|source| FlattenError::Arrow {
                table: def.name,
                source,
            })?;
        self.ready.push((def, batch));
        Ok(())
    }
}

fn text(b: &mut ColumnBuilder, v: Option<&str>) {
    if let ColumnBuilder::Text(s) = b {
        s.append_option(v);
    } else {
        b.append_null();
    }
}

#[cfg(test)]
mod tests;
