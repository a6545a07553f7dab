use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::column::{is_valid_name, ColumnType};
use crate::item::Resource;
use crate::table::TableDef;

/// All tables cloudtab knows, by name. Built once; cheap to share.
#[derive(Debug)]
pub struct Registry {
    tables: Vec<TableDef>,
    by_name: BTreeMap<&'static str, usize>,
}

/// The resource tables of every cloud, one function per cloud (its
/// module under `schemas/src/<cloud>/`): GCP and Kubernetes add theirs here.
const CLOUDS: &[fn() -> Vec<TableDef>] = &[crate::aws::tables];

impl Registry {
    /// The built-in registry: system tables first, then resource tables in
    /// name order.
    pub fn builtin() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(|| {
            let mut resources: Vec<TableDef> = CLOUDS.iter().flat_map(|tables| tables()).collect();
            resources.sort_by_key(|t| t.name);
            let mut tables = crate::system::tables();
            tables.extend(resources);
            Registry::new(tables)
        })
    }

    /// A registry of `tables`. Panics on a malformed definition: definitions
    /// are compiled into the binary, and the registry test checks them.
    fn new(tables: Vec<TableDef>) -> Registry {
        let mut by_name = BTreeMap::new();
        for (i, t) in tables.iter().enumerate() {
            assert!(is_valid_name(t.name), "bad table name {}", t.name);
            assert!(
                by_name.insert(t.name, i).is_none(),
                "duplicate table {}",
                t.name
            );
            let mut seen = std::collections::HashSet::new();
            for c in &t.columns {
                assert!(
                    is_valid_name(c.name),
                    "bad column name {}.{}",
                    t.name,
                    c.name
                );
                assert!(
                    seen.insert(c.name),
                    "duplicate column {}.{}",
                    t.name,
                    c.name
                );
            }
            for k in &t.primary_key {
                assert!(
                    seen.contains(k),
                    "primary key {}.{} is not a column",
                    t.name,
                    k
                );
            }
        }
        Registry { tables, by_name }
    }

    /// Every table, system tables first.
    pub fn tables(&self) -> &[TableDef] {
        &self.tables
    }

    /// The table called `name`.
    pub fn get(&self, name: &str) -> Option<&TableDef> {
        self.by_name.get(name).map(|&i| &self.tables[i])
    }

    /// Whether `r` fits its table: the table exists and is a resource
    /// table, every value names one of its own columns, none twice, each
    /// with a shape its column's type accepts ([`crate::ColumnType::accepts`]),
    /// and the times fit a timestamp. The flattener copes with a misfit
    /// (`NULL` and an `_issues` row); this names it where the extractor
    /// wrote it, so that debug builds and tests catch a misspelt column.
    pub fn check_resource(&self, r: &Resource) -> Result<(), String> {
        let t = self
            .get(r.table)
            .filter(|t| t.is_resource())
            .ok_or_else(|| format!("`{}` is not a resource table", r.table))?;
        let own = t.own_columns();
        let mut seen = Vec::with_capacity(r.values.len());
        for (name, v) in &r.values {
            let c = own.iter().find(|c| c.name == *name).ok_or_else(|| {
                format!(
                    "table `{}` has no column `{name}` (resource {})",
                    t.name, r.id
                )
            })?;
            if seen.contains(name) {
                return Err(format!(
                    "column `{}.{name}` given twice (resource {})",
                    t.name, r.id
                ));
            }
            seen.push(name);
            if !c.ty.accepts(v) {
                return Err(format!(
                    "column `{}.{name}` is {:?}, which cannot hold {v:?} (resource {})",
                    t.name, c.ty, r.id
                ));
            }
        }
        for (name, v) in [
            ("ctime", &r.ctime),
            ("mtime", &r.mtime),
            ("atime", &r.atime),
        ] {
            if !ColumnType::Timestamp.accepts(v) {
                return Err(format!(
                    "`{}.{name}` cannot hold {v:?} (resource {})",
                    t.name, r.id
                ));
            }
        }
        Ok(())
    }

    /// Resource tables only.
    pub fn resource_tables(&self) -> impl Iterator<Item = &TableDef> {
        self.tables.iter().filter(|t| t.is_resource())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::BASE_COLUMNS;

    #[test]
    fn builtin_registry_is_well_formed() {
        let r = Registry::builtin();
        for name in [
            "_edges",
            "_runs",
            "_scopes",
            "_issues",
            "aws_ec2_instance",
            "aws_sqs_queue",
        ] {
            assert!(r.get(name).is_some(), "{name} missing");
        }
        for t in r.resource_tables() {
            assert_eq!(&t.columns[..BASE_COLUMNS.len()], BASE_COLUMNS, "{}", t.name);
            assert!(!t.permissions.is_empty(), "{} lists no permissions", t.name);
            assert_eq!(t.primary_key, vec!["_id"]);
        }
    }

    #[test]
    fn a_resource_is_checked_against_its_table() {
        use crate::{Tags, Value};
        let r = Registry::builtin();
        let volume = |values: Vec<(&'static str, Value)>| Resource {
            table: "aws_ec2_volume",
            cloud: "aws",
            account_id: "123456789012".into(),
            account_name: None,
            region: "eu-west-1".into(),
            zone: None,
            id: "vol-1".into(),
            name: None,
            arn: None,
            ctime: Value::Timestamp { secs: 1, nanos: 0 },
            mtime: Value::Null,
            atime: Value::Null,
            tags: Tags::default(),
            values,
        };
        assert_eq!(
            r.check_resource(&volume(vec![
                ("state", Value::Text("in-use".into())),
                ("size_bytes", Value::Text("1024".into())),
            ])),
            Ok(())
        );
        let misspelt = r
            .check_resource(&volume(vec![("stat", Value::Text("in-use".into()))]))
            .unwrap_err();
        assert!(misspelt.contains("no column `stat`"), "{misspelt}");
        let twice = r
            .check_resource(&volume(vec![
                ("state", Value::Null),
                ("state", Value::Null),
            ]))
            .unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
        let wrong = r
            .check_resource(&volume(vec![("size_bytes", Value::Bool(true))]))
            .unwrap_err();
        assert!(wrong.contains("cannot hold Bool(true)"), "{wrong}");
        let mut not_a_time = volume(Vec::new());
        not_a_time.ctime = Value::Bool(false);
        assert!(r.check_resource(&not_a_time).is_err());
        let mut no_table = volume(Vec::new());
        no_table.table = "_edges";
        assert!(r.check_resource(&no_table).is_err());
    }

    #[test]
    fn base_columns_in_documented_order() {
        let names: Vec<_> = BASE_COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "_id",
                "_run_id",
                "_synced_at",
                "cloud",
                "account_id",
                "account_name",
                "region",
                "zone",
                "id",
                "name",
                "arn",
                "ctime",
                "mtime",
                "atime",
                "tags"
            ]
        );
    }
}
