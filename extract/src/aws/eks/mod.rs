//! EKS: clusters (`cluster`) and their managed node groups (`nodegroup`),
//! read by `scope`.

mod cluster;
mod nodegroup;
mod scope;

pub(crate) use scope::extract;
