//! The AWS services cloudtab reads, one entry each. The table drives scope
//! planning (global services once per account, the others once per
//! region, in this order), dispatch, the `services:` and `endpoints:` keys
//! of the config and their documentation. The tables a service fills are
//! the registry's resource tables of that service
//! (`TableKind::Resource::service`), and the IAM policy is theirs.
//!
//! Adding a service: its SDK crate (optional, under the `aws` feature), its
//! module with an `extract` function, and one entry here.

use std::future::Future;
use std::pin::Pin;

use super::clients::{sdk_client, ScopeCtx};
use super::{account, dynamodb, ec2, eks, elbv2, iam, lambda, rds, s3, sqs};
use super::{Failure, Writer};

/// The work of one scope.
pub(crate) type ScopeFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Failure>> + Send + 'a>>;

/// Reads one scope of a service.
pub(crate) type ExtractFn = for<'a, 'b> fn(&'a ScopeCtx, &'a mut Writer<'b>) -> ScopeFuture<'a>;

/// One AWS service.
pub(crate) struct Service {
    /// Its name in `services:`, `endpoints:`, scopes and the tables'
    /// `service`.
    pub name: &'static str,
    /// Read once per account (in the home region) instead of per region.
    pub global: bool,
    /// Read whatever `services:` says (the account and its regions).
    pub always: bool,
    /// Reads one scope.
    pub extract: ExtractFn,
}

/// An entry whose `extract` takes the service's SDK client, built for the
/// scope when it runs: `service!("sqs", regional, aws_sdk_sqs, sqs::extract)`.
/// With `ctx` instead of a crate, `extract` gets the [`ScopeCtx`] itself (S3
/// builds a client per bucket region; the account scope needs none).
macro_rules! service {
    ($name:literal, $reach:ident, ctx, $f:path) => {
        service!(@entry $name, $reach, |ctx, w| $f(ctx, w))
    };
    ($name:literal, $reach:ident, $krate:ident, $f:path) => {
        service!(@entry $name, $reach, |ctx, w| async move {
            $f(&sdk_client!(ctx, $krate), w).await
        })
    };
    (@entry $name:literal, $reach:ident, |$ctx:ident, $w:ident| $body:expr) => {
        Service {
            name: $name,
            global: reach!($reach),
            always: false,
            extract: {
                fn run<'a>($ctx: &'a ScopeCtx, $w: &'a mut Writer<'_>) -> ScopeFuture<'a> {
                    Box::pin($body)
                }
                run
            },
        }
    };
}

macro_rules! reach {
    (global) => {
        true
    };
    (regional) => {
        false
    };
}

/// Every service, in scope order.
pub(crate) const SERVICES: &[Service] = &[
    Service {
        always: true,
        ..service!("account", global, ctx, account::extract)
    },
    service!("iam", global, aws_sdk_iam, iam::extract),
    service!("s3", global, ctx, s3::extract),
    service!("ec2", regional, aws_sdk_ec2, ec2::extract),
    service!("sqs", regional, aws_sdk_sqs, sqs::extract),
    service!("lambda", regional, aws_sdk_lambda, lambda::extract),
    service!("dynamodb", regional, aws_sdk_dynamodb, dynamodb::extract),
    service!(
        "elbv2",
        regional,
        aws_sdk_elasticloadbalancingv2,
        elbv2::extract
    ),
    service!("rds", regional, aws_sdk_rds, rds::extract),
    service!("eks", regional, aws_sdk_eks, eks::extract),
];

/// The service called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.name == name)
}

/// The services `services:` may name, in scope order.
pub fn names() -> Vec<&'static str> {
    SERVICES
        .iter()
        .filter(|s| !s.always)
        .map(|s| s.name)
        .collect()
}

/// The tables the AWS extractor fills: the registry's AWS resource tables
/// of every service above.
pub fn tables() -> Vec<&'static str> {
    cloudtab_schema::Registry::builtin()
        .resource_tables()
        .filter_map(|t| match t.kind {
            cloudtab_schema::TableKind::Resource {
                cloud: "aws",
                service,
            } if find(service).is_some() => Some(t.name),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudtab_schema::{Registry, TableKind};

    #[test]
    fn every_aws_table_has_its_service_and_every_service_its_tables() {
        let registry = Registry::builtin();
        let mut filled = std::collections::BTreeSet::new();
        for t in registry.resource_tables() {
            if let TableKind::Resource {
                cloud: "aws",
                service,
            } = t.kind
            {
                assert!(
                    find(service).is_some(),
                    "{}: service `{service}` has no entry in SERVICES",
                    t.name
                );
                filled.insert(service);
            }
        }
        for s in SERVICES {
            assert!(
                filled.contains(s.name),
                "service `{}` fills no table",
                s.name
            );
        }
        let names: Vec<_> = SERVICES.iter().map(|s| s.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a service is listed twice");
        assert_eq!(tables().len(), registry.resource_tables().count());
    }
}
