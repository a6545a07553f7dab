//! The EC2 scope of one region: its parts in order (edges point at kinds
//! read earlier or later alike; references need no order).

use std::sync::Arc;

use super::{compute, images, network};
use crate::aws::{Failure, Writer};

/// Reads every EC2 kind of the scope's region.
pub(crate) async fn extract(c: &aws_sdk_ec2::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let region: Arc<str> = w.region().clone();
    let rr = w.region_ref(&region);
    compute::read(c, w, &region, &rr).await?;
    network::read(c, w, &region, &rr).await?;
    images::read(c, w, &region, &rr).await
}
