//! `aws_ec2_subnet`, from `DescribeSubnets`: in its VPC.

use aws_sdk_ec2::types::Subnet;

use super::common::ec2_tags;
use crate::aws::convert::{boolean, int, text, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, s: &Subnet) -> Option<Row> {
    let id = s.subnet_id()?;
    let mut row = w.row("aws_ec2_subnet", id);
    (row.tags, row.name) = ec2_tags(s.tags());
    row.arn = s.subnet_arn().map(str::to_string);
    row.zone = s.availability_zone().map(str::to_string);
    row.values = vec![
        ("vpc_id", text(s.vpc_id())),
        ("cidr_block", text(s.cidr_block())),
        ("availability_zone_id", text(s.availability_zone_id())),
        (
            "available_ip_address_count",
            int(s.available_ip_address_count()),
        ),
        ("default_for_az", boolean(s.default_for_az())),
        (
            "map_public_ip_on_launch",
            boolean(s.map_public_ip_on_launch()),
        ),
        ("state", variant(s.state())),
    ];
    row.within(s.vpc_id().map(|v| w.here("aws_ec2_vpc", v)));
    Some(row)
}
