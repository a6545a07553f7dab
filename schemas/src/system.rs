use crate::column::{ColumnDef, ColumnType::*};
use crate::table::TableDef;

/// Name of the edges table.
pub const EDGES_TABLE: &str = "_edges";
/// Name of the runs table.
pub const RUNS_TABLE: &str = "_runs";
/// Name of the scopes table.
pub const SCOPES_TABLE: &str = "_scopes";
/// Name of the issues table.
pub const ISSUES_TABLE: &str = "_issues";

pub(crate) fn tables() -> Vec<TableDef> {
    vec![
        TableDef::system(
            EDGES_TABLE,
            "Relationships between resources. `default`: the `from` resource contains or is depended on by the `to` resource (vpc → subnet → instance → volume). `delete`: the `to` resource must be deleted before the `from` resource can be; everything reachable from a resource over `delete` edges is its blast radius.",
            &["from_id", "to_id", "edge_type"],
            &[
                ColumnDef::required("from_id", Text, "`_id` of the resource the edge starts at.").unique(),
                ColumnDef::required("from_kind", Text, "Table of the resource the edge starts at."),
                ColumnDef::required("to_id", Text, "`_id` of the resource the edge ends at.").unique(),
                ColumnDef::required("to_kind", Text, "Table of the resource the edge ends at."),
                ColumnDef::required("edge_type", Text, "`default` or `delete`."),
                ColumnDef::required("_run_id", Text, "Id of the run that read the edge."),
            ],
        ),
        TableDef::system(
            RUNS_TABLE,
            "One row per run: when it ran, how it ended and with which options.",
            &["id"],
            &[
                ColumnDef::required("id", Text, "Run id; sorts in start order. Every row of the run has it as `_run_id`.").unique(),
                ColumnDef::required("started_at", Timestamp, "When the run started (UTC); every row's `_synced_at`."),
                ColumnDef::required("finished_at", Timestamp, "When extraction and loading finished, just before commit (UTC)."),
                ColumnDef::required("status", Text, "`ok` when every scope succeeded, `partial` when some failed."),
                ColumnDef::required("version", Text, "cloudtab version that made the run."),
                ColumnDef::required("options", Json, "Sources, sinks and options of the run, without secrets."),
                ColumnDef::required("resources", Int64, "Resources read in the run."),
                ColumnDef::required("edges", Int64, "Edges read in the run."),
                ColumnDef::required("issues", Int64, "Values that could not be converted (rows in `_issues`)."),
                ColumnDef::required("scopes", Int64, "Scopes (account × region × service) in the run."),
                ColumnDef::required("scopes_failed", Int64, "Scopes that did not succeed."),
            ],
        ),
        TableDef::system(
            SCOPES_TABLE,
            "One row per scope (account × region × service) of a run: how it went and what it cost.",
            &["_run_id", "cloud", "account_id", "region", "service"],
            &[
                ColumnDef::required("_run_id", Text, "Run id."),
                ColumnDef::required("cloud", Text, "Cloud of the scope."),
                ColumnDef::required("account_id", Text, "Account of the scope.").grouped(),
                ColumnDef::new("account_name", Text, "Account name, where there is one."),
                ColumnDef::required("region", Text, "Region of the scope, or `global`.").grouped(),
                ColumnDef::required("service", Text, "Service of the scope (`ec2`, `sqs`, ...)."),
                ColumnDef::required("status", Text, "`ok`, `partial`, `denied`, `unsupported` or `failed`."),
                ColumnDef::required("resources", Int64, "Resources read in the scope."),
                ColumnDef::required("edges", Int64, "Edges read in the scope."),
                ColumnDef::required("carried_rows", Int64, "Rows of a failed scope carried forward from the previous snapshot (they keep their old `_run_id`); 0 for scopes that succeeded."),
                ColumnDef::required("api_calls", Int64, "API requests made, retries included."),
                ColumnDef::required("retries", Int64, "Requests that were retried."),
                ColumnDef::required("throttles", Int64, "Requests the API throttled."),
                ColumnDef::required("started_at", Timestamp, "When the scope started (UTC)."),
                ColumnDef::required("duration_ms", Int64, "How long the scope took, in milliseconds."),
                ColumnDef::new("error", Text, "Why the scope did not succeed; `NULL` when it did."),
                ColumnDef::required("carried_dropped", Int64, "Rows of a failed scope that were not carried forward because they were read longer ago than `carry_max_age` (default 7 days): a scope that keeps failing loses them; 0 otherwise."),
            ],
        ),
        TableDef::system(
            ISSUES_TABLE,
            "Values that could not be converted to the type of their column. The value is `NULL` in its table and the raw value is kept here; a run never aborts over one.",
            &[],
            &[
                ColumnDef::required("_run_id", Text, "Run id."),
                ColumnDef::required("table_name", Text, "Table of the value."),
                ColumnDef::required("column_name", Text, "Column of the value."),
                ColumnDef::new("resource_id", Text, "`_id` of the row the value belongs to."),
                ColumnDef::new("raw_value", Text, "The value as the API returned it (first 1024 characters).").unique(),
                ColumnDef::required("reason", Text, "Why it could not be converted."),
            ],
        ),
    ]
}
