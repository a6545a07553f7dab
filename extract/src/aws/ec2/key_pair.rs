//! `aws_ec2_key_pair`, from `DescribeKeyPairs`.

use aws_sdk_ec2::types::KeyPairInfo;

use super::common::ec2_tags;
use crate::aws::convert::{text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, k: &KeyPairInfo) -> Option<Row> {
    let id = k.key_pair_id().or(k.key_name())?;
    let mut row = w.row("aws_ec2_key_pair", id);
    (row.tags, _) = ec2_tags(k.tags());
    row.name = k.key_name().map(str::to_string);
    row.arn = Some(w.arn("ec2", &format!("key-pair/{}", k.key_name().unwrap_or(id))));
    row.ctime = time(k.create_time());
    row.values = vec![
        ("key_fingerprint", text(k.key_fingerprint())),
        ("key_type", variant(k.key_type())),
    ];
    Some(row)
}
