//! The account and its regions: what every scope hangs from.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![
        TableDef::resource(
            "aws_account",
            "account",
            "One row per AWS account read in the run. `name` is the account alias, where there is one.",
            &["sts:GetCallerIdentity", "iam:ListAccountAliases"],
            &[
                C::new("partition", Text, "AWS partition (`aws`, `aws-cn`, `aws-us-gov`)."),
                C::new("organization_id", Text, "Id of the AWS Organization the account belongs to."),
            ],
        ),
        TableDef::resource(
            "aws_region",
            "account",
            "One row per region of an account that the run read.",
            &["ec2:DescribeRegions"],
            &[
                C::new("opt_in_status", Text, "`opt-in-not-required`, `opted-in` or `not-opted-in`."),
                C::new("endpoint", Text, "EC2 endpoint of the region."),
            ],
        ),
    ]
}
