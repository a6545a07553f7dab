//! IAM users and roles (a global scope). `ListUsers` and `ListRoles` give
//! the objects; `GetAccountAuthorizationDetails` adds what the lists leave
//! out (tags, when a role was last used) in a few paginated calls instead
//! of one call per user or role.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_iam::types::EntityType;
use cloudtab_schema::{EdgeType, Value};
use serde_json::json;

use super::clients::{api_failure, ScopeClients};
use super::convert::{json_text, tags, text, time};
use super::{Failure, Writer, GLOBAL};

#[derive(Default)]
struct Details {
    tags: Vec<(String, String)>,
    last_used: Option<aws_smithy_types::DateTime>,
    last_used_region: Option<String>,
}

pub(crate) async fn extract(c: &ScopeClients, w: &mut Writer<'_>) -> Result<(), Failure> {
    let global: Arc<str> = Arc::from(GLOBAL);
    let account = w.account_ref();

    // Tags and last use, by user or role name.
    let mut users: HashMap<String, Details> = HashMap::new();
    let mut roles: HashMap<String, Details> = HashMap::new();
    let mut pages = c
        .iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Role)
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
                    },
                );
            }
        }
    }

    let mut pages = c.iam.list_users().max_items(1000).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| api_failure("iam:ListUsers", &e))?;
        for u in page.users() {
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
                        Value::Json(json!({
                            "PermissionsBoundaryType": b.permissions_boundary_type().map(|t| t.as_str()),
                            "PermissionsBoundaryArn": b.permissions_boundary_arn(),
                        }))
                    }),
                ),
            ];
            let ur = w.put(row).await?;
            w.edge(&account, &ur, EdgeType::Default).await?;
        }
    }

    let mut pages = c.iam.list_roles().max_items(1000).into_paginator().send();
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
        }
    }
    Ok(())
}
