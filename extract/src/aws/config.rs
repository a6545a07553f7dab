use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Configuration of the `aws` source.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Accounts to read. Empty: the one identity of the standard credential
    /// chain (environment, shared config and credentials files, SSO,
    /// container and instance metadata).
    #[serde(default)]
    pub accounts: Vec<AwsAccount>,
    /// Regions to read: a list, or `all` for every region enabled in the
    /// account (`ec2:DescribeRegions`). Default `all`.
    #[serde(default)]
    pub regions: Regions,
    /// Region used for global calls (STS, IAM, listing regions and buckets);
    /// default: the profile's region, else `us-east-1`.
    #[serde(default)]
    pub home_region: Option<String>,
    /// Endpoint for every service (an emulator, a private endpoint).
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// Endpoint per service (a name `services` accepts, or `sts`),
    /// overriding `endpoint_url`.
    #[serde(default)]
    pub endpoints: BTreeMap<String, String>,
    /// Services to read; default: every service cloudtab knows.
    #[serde(default)]
    #[schemars(schema_with = "services_schema")]
    pub services: Option<Vec<String>>,
    /// Attempts per request, first one included, with the SDK's adaptive
    /// retry (exponential backoff plus client-side rate limiting on
    /// throttling). Default 10.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Seconds one API request may take, connecting included, before it
    /// is given up (and retried, up to `max_attempts`). Default 60, room
    /// for the largest pages a busy account returns.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Seconds one scope (account × region × service) may take in all,
    /// retries included; past it the scope fails (`_scopes` says so, its
    /// rows are carried forward, exit 3) and the others go on. Default 1800.
    #[serde(default = "default_scope_timeout")]
    pub scope_timeout_secs: u64,
    /// Calls about single resources that one scope keeps in flight at once
    /// (S3 bucket attributes, SQS queue attributes and tags, DynamoDB
    /// `DescribeTable`, Lambda tags, ELBv2 target health, EKS clusters and
    /// node groups, RDS subnet group tags, IAM access keys); rows keep the
    /// order of the list calls. Throttling slows
    /// them down through the SDK's adaptive retry. 1 to 256, default 16.
    #[serde(default = "default_detail_concurrency")]
    pub detail_concurrency: usize,
}

/// `services:` as the docs show it: a list of the known services' names.
fn services_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["array", "null"],
        "items": {"enum": super::services::names()}
    })
}

fn default_attempts() -> u32 {
    10
}
fn default_request_timeout() -> u64 {
    60
}
fn default_scope_timeout() -> u64 {
    1800
}
fn default_detail_concurrency() -> usize {
    16
}

/// The values a config file gets when it names only `type: aws` (a source
/// built from `--source aws` alone is exactly this).
impl Default for AwsConfig {
    fn default() -> Self {
        AwsConfig {
            accounts: Vec::new(),
            regions: Regions::default(),
            home_region: None,
            endpoint_url: None,
            endpoints: BTreeMap::new(),
            services: None,
            max_attempts: default_attempts(),
            request_timeout_secs: default_request_timeout(),
            scope_timeout_secs: default_scope_timeout(),
            detail_concurrency: default_detail_concurrency(),
        }
    }
}

/// One account: a profile, a role to assume, or both (the role assumed
/// from the profile's identity).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsAccount {
    /// Profile of the shared config/credentials files.
    #[serde(default)]
    pub profile: Option<String>,
    /// Role to assume (`arn:aws:iam::123456789012:role/cloudtab-reader`).
    #[serde(default)]
    pub role_arn: Option<String>,
    /// External id the role's trust policy requires.
    #[serde(default)]
    pub external_id: Option<String>,
}

/// `regions:`: a list or `all`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Regions {
    /// Every region enabled in the account.
    #[default]
    All,
    /// These regions.
    List(Vec<String>),
}

/// Written as the config file spells it: `all` or the list.
impl Serialize for Regions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Regions::All => s.serialize_str("all"),
            Regions::List(l) => l.serialize(s),
        }
    }
}

impl JsonSchema for Regions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Regions".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`all`, or a list of region names",
            "anyOf": [{"const": "all"}, {"type": "array", "items": {"type": "string"}}]
        })
    }
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "all" => Ok(Regions::All),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "expected a list of regions or `all`, got `{w}`"
            ))),
            Raw::List(l) if l.is_empty() => Err(serde::de::Error::custom(
                "an empty list reads nothing; leave `regions` out or write `all`",
            )),
            Raw::List(l) => Ok(Regions::List(l)),
        }
    }
}

impl AwsConfig {
    /// Checks values without I/O; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_attempts == 0 || self.max_attempts > 50 {
            return Err(format!(
                "max_attempts: must be between 1 and 50, got {}",
                self.max_attempts
            ));
        }
        if self.request_timeout_secs == 0 || self.request_timeout_secs > 3600 {
            return Err(format!(
                "request_timeout_secs: must be between 1 and 3600, got {}",
                self.request_timeout_secs
            ));
        }
        if self.scope_timeout_secs == 0 || self.scope_timeout_secs > 86_400 {
            return Err(format!(
                "scope_timeout_secs: must be between 1 and 86400, got {}",
                self.scope_timeout_secs
            ));
        }
        if self.detail_concurrency == 0 || self.detail_concurrency > 256 {
            return Err(format!(
                "detail_concurrency: must be between 1 and 256, got {}",
                self.detail_concurrency
            ));
        }
        let known = super::services::names();
        if let Some(s) = &self.services {
            for name in s {
                if !known.contains(&name.as_str()) {
                    return Err(format!(
                        "services: unknown service `{name}`; known: {}",
                        known.join(", ")
                    ));
                }
            }
        }
        for k in self.endpoints.keys() {
            if !known.contains(&k.as_str()) && k != "sts" {
                return Err(format!(
                    "endpoints.{k}: unknown service; known: sts, {}",
                    known.join(", ")
                ));
            }
        }
        for (i, a) in self.accounts.iter().enumerate() {
            if a.external_id.is_some() && a.role_arn.is_none() {
                return Err(format!(
                    "accounts[{i}].external_id: only used with role_arn"
                ));
            }
        }
        Ok(())
    }

    /// How long one request may take.
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_secs)
    }

    /// How long one scope may take.
    pub fn scope_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.scope_timeout_secs)
    }

    /// True when `service` is to be read.
    pub fn reads(&self, service: &str) -> bool {
        self.services
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == service))
    }

    /// The endpoint for `service`, if any.
    pub fn endpoint(&self, service: &str) -> Option<&str> {
        self.endpoints
            .get(service)
            .or(self.endpoint_url.as_ref())
            .map(String::as_str)
    }
}
