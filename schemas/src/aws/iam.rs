//! IAM: users, roles, groups, policies, access keys and instance profiles (global).

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![
        TableDef::resource(
            "aws_iam_user",
            "iam",
            "An IAM user. `atime` is when the password was last used.",
            &["iam:GetAccountAuthorizationDetails", "iam:ListUsers"],
            &[
                C::new("user_id", Text, "Stable unique id (`AIDA...`).").unique(),
                C::new("path", Text, "Path."),
                C::new("permissions_boundary", Json, "Permissions boundary."),
            ],
        ),
        TableDef::resource(
            "aws_iam_role",
            "iam",
            "An IAM role. `atime` is when the role was last used.",
            &["iam:GetAccountAuthorizationDetails", "iam:ListRoles"],
            &[
                C::new("role_id", Text, "Stable unique id (`AROA...`).").unique(),
                C::new("path", Text, "Path."),
                C::new("description", Text, "Description."),
                C::new("max_session_duration_seconds", Int64, "Longest session, in seconds."),
                C::new("assume_role_policy_document", Json, "Trust policy."),
                C::new("role_last_used_region", Text, "Region the role was last used in."),
            ],
        ),
        TableDef::resource(
            "aws_iam_group",
            "iam",
            "An IAM group.",
            &["iam:GetAccountAuthorizationDetails"],
            &[
                C::new("group_id", Text, "Stable unique id (`AGPA...`)."),
                C::new("path", Text, "Path."),
            ],
        ),
        TableDef::resource(
            "aws_iam_policy",
            "iam",
            "A customer-managed IAM policy. `mtime` is when it was last updated.",
            &["iam:GetAccountAuthorizationDetails"],
            &[
                C::new("policy_id", Text, "Stable unique id (`ANPA...`)."),
                C::new("path", Text, "Path."),
                C::new("default_version_id", Text, "Version in effect."),
                C::new("attachment_count", Int64, "Users, groups and roles it is attached to."),
                C::new("is_attachable", Boolean, "Whether it can be attached."),
                C::new("description", Text, "Description."),
                C::new("document", Json, "The policy document of the default version."),
            ],
        ),
        TableDef::resource(
            "aws_iam_access_key",
            "iam",
            "An access key of an IAM user: metadata only, never the secret. `id` is the access key id; `atime` is when it was last used.",
            &["iam:ListUsers", "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"],
            &[
                C::new("user_name", Text, "User the key belongs to."),
                C::new("status", Text, "`Active` or `Inactive`."),
                C::new("last_used_service", Text, "Service the key was last used with."),
                C::new("last_used_region", Text, "Region the key was last used in."),
            ],
        ),
        TableDef::resource(
            "aws_iam_instance_profile",
            "iam",
            "An instance profile: how an EC2 instance gets a role.",
            &["iam:ListInstanceProfiles"],
            &[
                C::new("instance_profile_id", Text, "Stable unique id (`AIPA...`)."),
                C::new("path", Text, "Path."),
                C::new("roles", Json, "Names of the roles in it."),
            ],
        ),
    ]
}
