//! IAM users and roles (a global scope). `ListUsers` and `ListRoles` give
//! the objects; `GetAccountAuthorizationDetails` adds what the lists leave
//! out (tags, when a role was last used) in a few paginated calls instead
//! of one call per user or role.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_iam::types::{AccessKeyLastUsed, AccessKeyMetadata, EntityType};
use cloudtab_schema::{EdgeType, Tags, Value};
use futures::StreamExt;
use serde_json::json;

use super::clients::api_failure;
use super::convert::{json_text, tags, text, time};
use super::{Failure, Writer, GLOBAL};
use crate::details::in_order;

#[derive(Default)]
struct Details {
    tags: Tags,
    last_used: Option<aws_smithy_types::DateTime>,
    last_used_region: Option<String>,
    /// ARNs of the managed policies attached.
    policies: Vec<String>,
    /// Groups a user is in.
    groups: Vec<String>,
}

/// Name of a customer-managed policy of this account from its ARN (AWS
/// managed policies, `arn:aws:iam::aws:policy/…`, have no row).
fn own_policy<'a>(arn: &'a str, account: &str) -> Option<&'a str> {
    let mut parts = arn.splitn(6, ':');
    let acct = parts.nth(4)?;
    let rest = parts.next()?;
    (acct == account).then(|| rest.rsplit('/').next().unwrap_or(rest))
}

pub(crate) async fn extract(c: &aws_sdk_iam::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let global: Arc<str> = Arc::from(GLOBAL);
    let account = w.account_ref();

    // Tags and last use, by user or role name.
    let mut users: HashMap<String, Details> = HashMap::new();
    let mut roles: HashMap<String, Details> = HashMap::new();
    let mut pages = c
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Role)
        .filter(EntityType::Group)
        .filter(EntityType::LocalManagedPolicy)
        .max_items(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("iam:GetAccountAuthorizationDetails", &e))?;
        for u in page.user_detail_list() {
            if let Some(n) = u.user_name() {
                users.insert(
                    n.to_string(),
                    Details {
                        tags: tags(u.tags().iter().map(|t| (Some(t.key()), Some(t.value())))).0,
                        policies: attached(u.attached_managed_policies()),
                        groups: u.group_list().to_vec(),
                        ..Default::default()
                    },
                );
            }
        }
        for r in page.role_detail_list() {
            if let Some(n) = r.role_name() {
                roles.insert(
                    n.to_string(),
                    Details {
                        tags: tags(r.tags().iter().map(|t| (Some(t.key()), Some(t.value())))).0,
                        last_used: r.role_last_used().and_then(|l| l.last_used_date()).cloned(),
                        last_used_region: r
                            .role_last_used()
                            .and_then(|l| l.region())
                            .map(str::to_string),
                        policies: attached(r.attached_managed_policies()),
                        groups: Vec::new(),
                    },
                );
            }
        }
        for g in page.group_detail_list() {
            let Some(name) = g.group_name() else { continue };
            let mut row = w.new_resource("aws_iam_group", Some(&global), name);
            row.name = Some(name.to_string());
            row.arn = g.arn().map(str::to_string);
            row.ctime = time(g.create_date());
            row.values = vec![("group_id", text(g.group_id())), ("path", text(g.path()))];
            let gr = w.put(row).await?;
            w.edge(&account, &gr, EdgeType::Default).await?;
            for arn in attached(g.attached_managed_policies()) {
                if let Some(p) = own_policy(&arn, w.account_id()) {
                    let pr = w.reference("aws_iam_policy", &global, p);
                    w.edge(&gr, &pr, EdgeType::Default).await?;
                }
            }
        }
        for p in page.policies() {
            // Some implementations leave out the name; the ARN ends with it.
            let Some(name) = p
                .policy_name()
                .or_else(|| p.arn().and_then(|a| a.rsplit('/').next()))
            else {
                continue;
            };
            let mut row = w.new_resource("aws_iam_policy", Some(&global), name);
            row.name = Some(name.to_string());
            row.arn = p.arn().map(str::to_string);
            row.ctime = time(p.create_date());
            row.mtime = time(p.update_date());
            let document = p
                .policy_version_list()
                .iter()
                .find(|v| v.is_default_version())
                .and_then(|v| v.document());
            row.values = vec![
                ("policy_id", text(p.policy_id())),
                ("path", text(p.path())),
                ("default_version_id", text(p.default_version_id())),
                (
                    "attachment_count",
                    p.attachment_count()
                        .map_or(Value::Null, |n| Value::Int(n as i64)),
                ),
                ("is_attachable", Value::Bool(p.is_attachable())),
                ("description", text(p.description())),
                ("document", json_text(document)),
            ];
            let pr = w.put(row).await?;
            w.edge(&account, &pr, EdgeType::Default).await?;
        }
    }

    let mut pages = c.list_users().max_items(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("iam:ListUsers", &e))?;
        // Access keys: one `ListAccessKeys` per user, one
        // `GetAccessKeyLastUsed` per key (no batch form), in flight
        // together, answered in the users' order.
        let mut keys = in_order(page.users(), w.concurrency, |u| {
            access_keys(c, u.user_name())
        });
        for u in page.users() {
            let user_keys = keys.next().await.unwrap_or_else(|| Ok(Vec::new()))?;
            let name = u.user_name();
            let d = users.remove(name).unwrap_or_default();
            let mut row = w.new_resource("aws_iam_user", Some(&global), name);
            row.name = Some(name.to_string());
            row.arn = Some(u.arn().to_string());
            row.ctime = time(Some(u.create_date()));
            row.atime = time(u.password_last_used());
            row.tags = if d.tags.is_empty() {
                tags(u.tags().iter().map(|t| (Some(t.key()), Some(t.value())))).0
            } else {
                d.tags
            };
            row.values = vec![
                ("user_id", Value::Text(u.user_id().to_string())),
                ("path", Value::Text(u.path().to_string())),
                (
                    "permissions_boundary",
                    u.permissions_boundary().map_or(Value::Null, |b| {
                        Value::json(json!({
                            "PermissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
                            "PermissionsBoundaryArn": b.permissions_boundary_arn(),
                        }))
                    }),
                ),
            ];
            let ur = w.put(row).await?;
            w.edge(&account, &ur, EdgeType::Default).await?;
            for g in &d.groups {
                let gr = w.reference("aws_iam_group", &global, g.clone());
                w.edge(&gr, &ur, EdgeType::Default).await?;
            }
            for arn in &d.policies {
                if let Some(p) = own_policy(arn, w.account_id()) {
                    let pr = w.reference("aws_iam_policy", &global, p);
                    w.edge(&ur, &pr, EdgeType::Default).await?;
                }
            }
            for (k, last) in user_keys {
                access_key(w, name, &ur, &k, last.as_ref()).await?;
            }
        }
    }

    let mut pages = c.list_roles().max_items(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("iam:ListRoles", &e))?;
        for r in page.roles() {
            let name = r.role_name();
            let d = roles.remove(name).unwrap_or_default();
            let mut row = w.new_resource("aws_iam_role", Some(&global), name);
            row.name = Some(name.to_string());
            row.arn = Some(r.arn().to_string());
            row.ctime = time(Some(r.create_date()));
            let last_used = d
                .last_used
                .as_ref()
                .or_else(|| r.role_last_used().and_then(|l| l.last_used_date()));
            row.atime = time(last_used);
            row.tags = if d.tags.is_empty() {
                tags(r.tags().iter().map(|t| (Some(t.key()), Some(t.value())))).0
            } else {
                d.tags
            };
            row.values = vec![
                ("role_id", Value::Text(r.role_id().to_string())),
                ("path", Value::Text(r.path().to_string())),
                ("description", text(r.description())),
                (
                    "max_session_duration_seconds",
                    r.max_session_duration()
                        .map_or(Value::Null, |v| Value::Int(v as i64)),
                ),
                (
                    "assume_role_policy_document",
                    json_text(r.assume_role_policy_document()),
                ),
                (
                    "role_last_used_region",
                    Value::text_opt(d.last_used_region.or_else(|| {
                        r.role_last_used()
                            .and_then(|l| l.region())
                            .map(str::to_string)
                    })),
                ),
            ];
            let rr = w.put(row).await?;
            w.edge(&account, &rr, EdgeType::Default).await?;
            for arn in &d.policies {
                if let Some(p) = own_policy(arn, w.account_id()) {
                    let pr = w.reference("aws_iam_policy", &global, p);
                    w.edge(&rr, &pr, EdgeType::Default).await?;
                }
            }
        }
    }

    let mut pages = c
        .list_instance_profiles()
        .max_items(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("iam:ListInstanceProfiles", &e))?;
        for p in page.instance_profiles() {
            let name = p.instance_profile_name();
            let mut row = w.new_resource("aws_iam_instance_profile", Some(&global), name);
            row.name = Some(name.to_string());
            row.arn = Some(p.arn().to_string());
            row.ctime = time(Some(p.create_date()));
            (row.tags, _) = tags(p.tags().iter().map(|t| (Some(t.key()), Some(t.value()))));
            let roles: Vec<&str> = p.roles().iter().map(|r| r.role_name()).collect();
            row.values = vec![
                (
                    "instance_profile_id",
                    Value::Text(p.instance_profile_id().to_string()),
                ),
                ("path", Value::Text(p.path().to_string())),
                ("roles", Value::json(json!(roles))),
            ];
            let pr = w.put(row).await?;
            w.edge(&account, &pr, EdgeType::Default).await?;
            for role in roles {
                let rr = w.reference("aws_iam_role", &global, role);
                w.edge(&rr, &pr, EdgeType::Default).await?;
            }
        }
    }
    Ok(())
}

fn attached(p: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    p.iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

/// A user's access keys: metadata and last use, never a secret (the list
/// call does not return one).
async fn access_keys(
    c: &aws_sdk_iam::Client,
    user: &str,
) -> Result<Vec<(AccessKeyMetadata, Option<AccessKeyLastUsed>)>, Failure> {
    let mut out = Vec::new();
    let mut pages = c
        .list_access_keys()
        .user_name(user)
        .max_items(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("iam:ListAccessKeys", &e))?;
        for k in page.access_key_metadata {
            let Some(id) = k.access_key_id() else {
                continue;
            };
            let used = c
                .get_access_key_last_used()
                .access_key_id(id)
                .send()
                .await
                .map_err(|e| api_failure("iam:GetAccessKeyLastUsed", &e))?;
            out.push((k, used.access_key_last_used));
        }
    }
    Ok(out)
}

/// Writes an access key of `user` (whose reference is `ur`).
async fn access_key(
    w: &mut Writer<'_>,
    user: &str,
    ur: &cloudtab_schema::ResourceRef,
    k: &AccessKeyMetadata,
    last: Option<&AccessKeyLastUsed>,
) -> Result<(), Failure> {
    let global: Arc<str> = Arc::from(GLOBAL);
    let Some(id) = k.access_key_id() else {
        return Ok(());
    };
    let mut row = w.new_resource("aws_iam_access_key", Some(&global), id);
    row.ctime = time(k.create_date());
    row.atime = time(last.and_then(|l| l.last_used_date()));
    row.values = vec![
        ("user_name", Value::Text(user.to_string())),
        ("status", text(k.status().map(|s| s.as_str()))),
        ("last_used_service", text(last.map(|l| l.service_name()))),
        ("last_used_region", text(last.map(|l| l.region()))),
    ];
    let kr = w.put(row).await?;
    w.contains(ur, &kr).await?;
    Ok(())
}
