//! EC2 in one region: one module per kind (its mapping), what the kinds
//! share (`common`) and the scope that reads them in order (`scope`).

mod common;
mod elastic_ip;
mod image;
mod instance;
mod instance_type;
mod internet_gateway;
mod key_pair;
mod launch_template;
mod nat_gateway;
mod network_acl;
mod network_interface;
mod route_table;
mod scope;
mod security_group;
mod snapshot;
mod subnet;
mod volume;
mod vpc;
mod vpc_endpoint;
mod vpc_peering_connection;

pub(crate) use scope::extract;
