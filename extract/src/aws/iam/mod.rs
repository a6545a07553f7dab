//! IAM (a global scope): groups, managed policies, users with their access
//! keys, roles and instance profiles, one module per kind, read by `scope`;
//! what the list calls leave out comes from `details`.

mod access_key;
mod details;
mod group;
mod instance_profile;
mod policy;
mod role;
mod scope;
mod user;

pub(crate) use scope::extract;
