//! ELBv2 in one region: load balancers, their listeners, target groups
//! and the targets registered in them, one module per kind, read by
//! `scope`. Ids are ARNs, as the API's are.

mod listener;
mod load_balancer;
mod scope;
mod target_group;

pub(crate) use scope::extract;
