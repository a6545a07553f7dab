use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::column::is_valid_name;
use crate::table::TableDef;

/// All tables cloudtab knows, by name. Built once; cheap to share.
#[derive(Debug)]
pub struct Registry {
    tables: Vec<TableDef>,
    by_name: BTreeMap<&'static str, usize>,
}

impl Registry {
    /// The built-in registry: system tables first, then resource tables in
    /// name order.
    pub fn builtin() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(|| {
            let mut resources = crate::aws::tables();
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
