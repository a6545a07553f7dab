//! EC2 in one region, in three parts: compute (VPCs, subnets, security
//! groups, instances, volumes, snapshots, instance types), network
//! (interfaces, Elastic IPs, key pairs, gateways, route tables, ACLs, AMIs)
//! and images (launch templates, VPC endpoints, peering connections); what
//! they share is in `common`.

mod common;
mod compute;
mod images;
mod instance_types;
mod network;
mod scope;

pub(crate) use scope::extract;
