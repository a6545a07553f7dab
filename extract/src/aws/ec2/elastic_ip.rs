//! `aws_ec2_elastic_ip`, from `DescribeAddresses`: from the network
//! interface (else the instance) it is associated with.

use aws_sdk_ec2::types::Address;

use super::common::ec2_row;
use crate::aws::convert::{text, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, a: &Address) -> Option<Row> {
    let id = a.allocation_id().or(a.public_ip())?;
    let mut row = ec2_row(w, "aws_ec2_elastic_ip", "elastic-ip", id, a.tags());
    row.values = vec![
        ("public_ip", text(a.public_ip())),
        ("domain", variant(a.domain())),
        ("instance_id", text(a.instance_id())),
        ("network_interface_id", text(a.network_interface_id())),
        ("association_id", text(a.association_id())),
        ("private_ip_address", text(a.private_ip_address())),
    ];
    let holder = match (a.network_interface_id(), a.instance_id()) {
        (Some(n), _) => Some(w.here("aws_ec2_network_interface", n)),
        (None, Some(i)) => Some(w.here("aws_ec2_instance", i)),
        (None, None) => None,
    };
    row.from(holder);
    Some(row)
}
