//! RDS in one region: one module per kind (its mapping), what they share
//! (`common`) and the scope that reads them (`scope`). The RDS API also
//! answers for Neptune and DocumentDB; their instances land here too, told
//! apart by `engine`.

mod cluster;
mod cluster_snapshot;
mod common;
mod instance;
mod scope;
mod snapshot;
mod subnet_group;

pub(crate) use scope::extract;
