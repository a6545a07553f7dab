//! S3 buckets.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![TableDef::resource(
        "aws_s3_bucket",
        "s3",
        "An S3 bucket. `region` is where the bucket is; `ctime` is the creation date.",
        &[
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:GetBucketTagging",
            "s3:GetBucketVersioning",
            "s3:GetEncryptionConfiguration",
            "s3:GetBucketPublicAccessBlock",
        ],
        &[
            C::new(
                "versioning_status",
                Text,
                "`Enabled`, `Suspended`, or `NULL` when never enabled.",
            ),
            C::new("mfa_delete", Text, "`Enabled` or `Disabled`."),
            C::new("encryption", Json, "Default encryption rules."),
            C::new(
                "public_access_block",
                Json,
                "Public access block configuration.",
            ),
        ],
    )]
}
