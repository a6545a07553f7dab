//! `aws_ec2_vpc_peering_connection`, from `DescribeVpcPeeringConnections`:
//! in each side's VPC that this account owns (in that VPC's region).

use std::sync::Arc;

use aws_sdk_ec2::types::VpcPeeringConnection;

use super::common::ec2_row;
use crate::aws::convert::{text, time, variant};
use crate::aws::Writer;
use crate::writer::Row;

pub(super) fn row(w: &Writer<'_>, p: &VpcPeeringConnection) -> Option<Row> {
    let id = p.vpc_peering_connection_id()?;
    let table = "aws_ec2_vpc_peering_connection";
    let mut row = ec2_row(w, table, "vpc-peering-connection", id, p.tags());
    let (req, acc) = (p.requester_vpc_info(), p.accepter_vpc_info());
    row.values = vec![
        ("status", variant(p.status().and_then(|s| s.code()))),
        ("status_message", text(p.status().and_then(|s| s.message()))),
        ("requester_vpc_id", text(req.and_then(|v| v.vpc_id()))),
        ("requester_owner_id", text(req.and_then(|v| v.owner_id()))),
        ("requester_region", text(req.and_then(|v| v.region()))),
        (
            "requester_cidr_block",
            text(req.and_then(|v| v.cidr_block())),
        ),
        ("accepter_vpc_id", text(acc.and_then(|v| v.vpc_id()))),
        ("accepter_owner_id", text(acc.and_then(|v| v.owner_id()))),
        ("accepter_region", text(acc.and_then(|v| v.region()))),
        (
            "accepter_cidr_block",
            text(acc.and_then(|v| v.cidr_block())),
        ),
        ("expiration_time", time(p.expiration_time())),
    ];
    // The connection goes before each side's VPC.
    let own = [req, acc].into_iter().flatten().filter_map(|side| {
        let vpc = side.vpc_id()?;
        (side.owner_id()? == w.account_id()).then_some(())?;
        let region: Arc<str> = side.region().map_or_else(|| w.region().clone(), Arc::from);
        Some(w.reference("aws_ec2_vpc", &region, vpc))
    });
    row.within(own.collect::<Vec<_>>());
    Some(row)
}
