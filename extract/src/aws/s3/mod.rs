//! S3: buckets (`bucket`), and the calls that ask each bucket about
//! itself in its own region (`details`).

mod bucket;
mod details;

pub(crate) use bucket::extract;
