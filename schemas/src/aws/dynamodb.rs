//! DynamoDB tables.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![TableDef::resource(
        "aws_dynamodb_table",
        "dynamodb",
        "A DynamoDB table. `ctime` is the creation time.",
        &[
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
        ],
        &[
            C::new("table_id", Text, "Unique id of the table."),
            C::new("table_status", Text, "`CREATING`, `ACTIVE`, ..."),
            C::new(
                "item_count",
                Int64,
                "Items (updated about every six hours).",
            ),
            C::new(
                "table_size_bytes",
                Int64,
                "Size in bytes (updated about every six hours).",
            ),
            C::new("billing_mode", Text, "`PROVISIONED` or `PAY_PER_REQUEST`."),
            C::new(
                "key_schema",
                Json,
                "Key attributes (`AttributeName`, `KeyType`).",
            ),
            C::new(
                "read_capacity_units",
                Int64,
                "Provisioned reads per second.",
            ),
            C::new(
                "write_capacity_units",
                Int64,
                "Provisioned writes per second.",
            ),
            C::new(
                "deletion_protection_enabled",
                Boolean,
                "Whether deletion protection is on.",
            ),
        ],
    )]
}
