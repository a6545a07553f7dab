//! What `GetAccountAuthorizationDetails` adds to the list calls (tags, when
//! a role was last used, attached policies, group memberships), by user or
//! role name, in a few paginated calls instead of one call per user or
//! role.

use aws_sdk_iam::types::{AttachedPolicy, Tag};
use aws_smithy_types::DateTime;
use cloudtab_schema::{ResourceRef, Tags};

use crate::aws::convert::tags;
use crate::aws::Writer;

#[derive(Default)]
pub(super) struct Details {
    pub(super) tags: Tags,
    pub(super) last_used: Option<DateTime>,
    pub(super) last_used_region: Option<String>,
    /// ARNs of the managed policies attached.
    pub(super) policies: Vec<String>,
    /// Groups a user is in.
    pub(super) groups: Vec<String>,
}

/// Tags as IAM answers carry them.
pub(super) fn iam_tags(t: &[Tag]) -> Tags {
    tags(t.iter().map(|t| (Some(t.key()), Some(t.value())))).0
}

/// ARNs of attached managed policies.
pub(super) fn attached(p: &[AttachedPolicy]) -> Vec<String> {
    p.iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

/// References to the customer-managed policies of this account among
/// `arns` (AWS managed policies, `arn:aws:iam::aws:policy/…`, have no row).
pub(super) fn own_policies<'a>(
    w: &'a Writer<'_>,
    arns: &'a [String],
) -> impl Iterator<Item = ResourceRef> + 'a {
    arns.iter()
        .filter_map(|a| own_policy(a, w.account_id()))
        .map(|p| w.global("aws_iam_policy", p))
}

/// Name of a customer-managed policy of `account` from its ARN.
fn own_policy<'a>(arn: &'a str, account: &str) -> Option<&'a str> {
    let mut parts = arn.splitn(6, ':');
    let acct = parts.nth(4)?;
    let rest = parts.next()?;
    (acct == account).then(|| rest.rsplit('/').next().unwrap_or(rest))
}
