//! The IAM scope: the authorization details first (groups and policies
//! are written from them; users' and roles' extras are kept by name),
//! then users with their access keys (`ListAccessKeys` per user and
//! `GetAccessKeyLastUsed` per key, `detail_concurrency` users at once),
//! roles and instance profiles.

use std::collections::HashMap;

use aws_sdk_iam::types::{AccessKeyLastUsed, AccessKeyMetadata, EntityType};
use futures::StreamExt;

use super::details::{attached, iam_tags, Details};
use super::*;
use crate::aws::clients::api_failure;
use crate::aws::{Failure, Writer};
use crate::details::in_order;

pub(crate) async fn extract(c: &aws_sdk_iam::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    let mut users: HashMap<String, Details> = HashMap::new();
    let mut roles: HashMap<String, Details> = HashMap::new();
    pages!(
        "iam:GetAccountAuthorizationDetails",
        c.get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Role)
            .filter(EntityType::Group)
            .filter(EntityType::LocalManagedPolicy)
            .max_items(1000)
            .into_paginator()
            .send(),
        |page| {
            for u in page.user_detail_list() {
                let Some(n) = u.user_name() else { continue };
                let d = Details {
                    tags: iam_tags(u.tags()),
                    policies: attached(u.attached_managed_policies()),
                    groups: u.group_list().to_vec(),
                    ..Default::default()
                };
                users.insert(n.to_string(), d);
            }
            for r in page.role_detail_list() {
                let Some(n) = r.role_name() else { continue };
                let last = r.role_last_used();
                let d = Details {
                    tags: iam_tags(r.tags()),
                    last_used: last.and_then(|l| l.last_used_date()).cloned(),
                    last_used_region: last.and_then(|l| l.region()).map(str::to_string),
                    policies: attached(r.attached_managed_policies()),
                    groups: Vec::new(),
                };
                roles.insert(n.to_string(), d);
            }
            w.rows(page.group_detail_list(), group::row).await?;
            w.rows(page.policies(), policy::row).await?;
        }
    );
    pages!(
        "iam:ListUsers",
        c.list_users().max_items(1000).into_paginator().send(),
        |page| {
            let mut keys = in_order(page.users(), w.concurrency, |u| {
                access_keys(c, u.user_name())
            });
            for u in page.users() {
                let user_keys = keys.next().await.unwrap_or_else(|| Ok(Vec::new()))?;
                let name = u.user_name();
                let d = users.remove(name).unwrap_or_default();
                let ur = w.send(user::row(w, u, d)).await?;
                w.rows(&user_keys, |w, k| access_key::row(w, name, ur, k))
                    .await?;
            }
        }
    );
    pages!(
        "iam:ListRoles",
        c.list_roles().max_items(1000).into_paginator().send(),
        |page| {
            for r in page.roles() {
                let d = roles.remove(r.role_name()).unwrap_or_default();
                w.send(role::row(w, r, d)).await?;
            }
        }
    );
    kind!(
        w,
        "iam:ListInstanceProfiles",
        c.list_instance_profiles()
            .max_items(1000)
            .into_paginator()
            .send(),
        instance_profiles,
        instance_profile::row
    );
    Ok(())
}

/// A user's access keys and when each was last used.
async fn access_keys(
    c: &aws_sdk_iam::Client,
    user: &str,
) -> Result<Vec<(AccessKeyMetadata, Option<AccessKeyLastUsed>)>, Failure> {
    let mut out = Vec::new();
    pages!(
        "iam:ListAccessKeys",
        c.list_access_keys()
            .user_name(user)
            .max_items(1000)
            .into_paginator()
            .send(),
        |page| {
            for k in page.access_key_metadata {
                let Some(id) = k.access_key_id() else {
                    continue;
                };
                let used = c.get_access_key_last_used().access_key_id(id).send().await;
                let used = used.map_err(|e| api_failure("iam:GetAccessKeyLastUsed", &e))?;
                out.push((k, used.access_key_last_used));
            }
        }
    );
    Ok(out)
}
