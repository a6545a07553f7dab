//! AWS resource tables. Column names follow the API's field names in
//! snake case; sizes are in bytes, times in UTC, nested structures that have
//! no column of their own are JSON.
//!
//! One file per service; the registry sorts the tables by name, so the
//! order here is only that of the files.

use crate::table::TableDef;

mod account;
mod dynamodb;
mod ec2;
mod eks;
mod elbv2;
mod iam;
mod lambda;
mod rds;
mod s3;
mod sqs;

pub(crate) fn tables() -> Vec<TableDef> {
    [
        account::tables(),
        ec2::tables(),
        sqs::tables(),
        s3::tables(),
        iam::tables(),
        lambda::tables(),
        dynamodb::tables(),
        elbv2::tables(),
        rds::tables(),
        eks::tables(),
    ]
    .concat()
}
