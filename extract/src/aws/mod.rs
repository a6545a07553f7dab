//! The AWS extractor: the AWS SDK for Rust does HTTP, signing, pagination
//! and retries; this module maps API objects onto the registry's tables.
//!
//! Scopes: one per account and global service, one per region and
//! regional service, as the service table (`services.rs`) lists them. A
//! scope builds the SDK client of its own service when it runs, with an
//! interceptor that counts requests, retries and throttles into `_scopes`.

#[macro_use]
mod kinds;

mod account;
mod clients;
mod config;
mod convert;
mod dynamodb;
mod ec2;
mod eks;
mod elbv2;
mod extractor;
mod iam;
mod lambda;
mod rds;
mod s3;
mod services;
pub mod signed;
mod sqs;

pub use config::{AwsAccount, AwsConfig, Regions};
pub use extractor::AwsExtractor;
pub use services::{names as service_names, tables};

pub(crate) use crate::writer::GLOBAL;
pub(crate) use extractor::{Failure, Writer};
