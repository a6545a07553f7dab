//! `aws_ec2_launch_template`, from `DescribeLaunchTemplates`.

use aws_sdk_ec2::types::LaunchTemplate;
use cloudtab_schema::Value;

use super::common::ec2_row;
use crate::aws::convert::{text, time};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, t: &LaunchTemplate) -> Option<Row> {
    let id = t.launch_template_id()?;
    let mut row = ec2_row(
        w,
        "aws_ec2_launch_template",
        "launch-template",
        id,
        t.tags(),
    );
    row.name = t.launch_template_name().map(str::to_string);
    row.ctime = time(t.create_time());
    let version = |v: Option<i64>| v.map_or(Value::Null, Value::Int);
    row.values = vec![
        ("created_by", text(t.created_by())),
        (
            "default_version_number",
            version(t.default_version_number()),
        ),
        ("latest_version_number", version(t.latest_version_number())),
    ];
    Some(row)
}
