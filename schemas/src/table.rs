use serde::Serialize;

use crate::column::{ColumnDef, ColumnType};

/// What kind of rows a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum TableKind {
    /// One row per cloud resource of one concrete kind; starts with
    /// [`BASE_COLUMNS`].
    Resource {
        /// Cloud the kind belongs to (`aws`).
        cloud: &'static str,
        /// Service that owns the kind (`ec2`, `sqs`, ...): one scope per
        /// account × region × service fills it.
        service: &'static str,
    },
    /// Edges and run metadata written by cloudtab itself.
    System,
}

/// The columns every resource table starts with, in this order.
pub const BASE_COLUMNS: &[ColumnDef] = &[
    ColumnDef::required("_id", ColumnType::Text, "Stable unique id: a hash of cloud, account id, region, kind and native id (never the name).").unique(),
    ColumnDef::required("_run_id", ColumnType::Text, "Id of the run that read this row (older than the newest run when the row was carried forward from a failed scope)."),
    ColumnDef::required("_synced_at", ColumnType::Timestamp, "Start time of the run that read this row; the same on every row of a run.").grouped(),
    ColumnDef::required("cloud", ColumnType::Text, "Cloud provider: `aws`."),
    ColumnDef::required("account_id", ColumnType::Text, "Account (AWS: 12-digit account id) the resource belongs to.").grouped(),
    ColumnDef::new("account_name", ColumnType::Text, "Human name of the account (AWS: the account alias), where there is one."),
    ColumnDef::required("region", ColumnType::Text, "Region of the resource; `global` for global resources.").grouped(),
    ColumnDef::new("zone", ColumnType::Text, "Availability zone, for zonal resources."),
    ColumnDef::required("id", ColumnType::Text, "Native id the cloud API uses for the resource.").unique(),
    ColumnDef::new("name", ColumnType::Text, "Name of the resource (AWS: the `Name` tag, or the name the API gives).").unique(),
    ColumnDef::new("arn", ColumnType::Text, "Amazon Resource Name, where the cloud has one.").unique(),
    ColumnDef::new("ctime", ColumnType::Timestamp, "When the resource was created (UTC)."),
    ColumnDef::new("mtime", ColumnType::Timestamp, "When the resource was last modified (UTC), where the API says."),
    ColumnDef::new("atime", ColumnType::Timestamp, "When the resource was last used or accessed (UTC), where the API says."),
    ColumnDef::required("tags", ColumnType::Json, "Tags as a JSON object of string to string; `{}` when there are none."),
];

/// The definition of one table: the single source of truth for its shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDef {
    /// Table name, `<cloud>_<service>_<kind>` for resource tables, `_name`
    /// for system tables.
    pub name: &'static str,
    /// One or two sentences on what a row is.
    pub description: &'static str,
    /// Resource or system table.
    #[serde(flatten)]
    pub kind: TableKind,
    /// All columns in order; resource tables start with [`BASE_COLUMNS`].
    pub columns: Vec<ColumnDef>,
    /// Columns that identify a row within one snapshot.
    pub primary_key: Vec<&'static str>,
    /// Cloud API permissions (IAM actions) needed to fill the table.
    pub permissions: Vec<&'static str>,
}

impl TableDef {
    /// A resource table: the base columns followed by `own` columns.
    pub fn resource(
        name: &'static str,
        service: &'static str,
        description: &'static str,
        permissions: &[&'static str],
        own: &[ColumnDef],
    ) -> Self {
        let cloud = name.split('_').next().unwrap_or(name);
        let mut columns = BASE_COLUMNS.to_vec();
        columns.extend_from_slice(own);
        TableDef {
            name,
            description,
            kind: TableKind::Resource { cloud, service },
            columns,
            primary_key: vec!["_id"],
            permissions: permissions.to_vec(),
        }
    }

    /// A system table written by cloudtab itself.
    pub fn system(
        name: &'static str,
        description: &'static str,
        primary_key: &[&'static str],
        columns: &[ColumnDef],
    ) -> Self {
        TableDef {
            name,
            description,
            kind: TableKind::System,
            columns: columns.to_vec(),
            primary_key: primary_key.to_vec(),
            permissions: Vec::new(),
        }
    }

    /// True for tables of resources (as opposed to system tables).
    pub fn is_resource(&self) -> bool {
        matches!(self.kind, TableKind::Resource { .. })
    }

    /// The columns after the base columns (all columns for system tables).
    pub fn own_columns(&self) -> &[ColumnDef] {
        if self.is_resource() {
            &self.columns[BASE_COLUMNS.len()..]
        } else {
            &self.columns
        }
    }

    /// Index of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}
