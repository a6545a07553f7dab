//! The demo inventory, generated one scope at a time.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use cloudtab_schema::{Item, ResourceRef, Tags, Value};
use serde_json::json;

use super::rng::{mix, Rng};
use crate::scope::Scope;
use crate::writer::{Origin, Row, RowItems, GLOBAL};

/// Tables the demo fills (it declares every AWS table; see
/// `DemoExtractor::tables`).
#[cfg(test)]
pub(crate) const TABLES: &[&str] = &[
    "aws_account",
    "aws_region",
    "aws_ec2_vpc",
    "aws_ec2_subnet",
    "aws_ec2_security_group",
    "aws_ec2_instance",
    "aws_ec2_volume",
    "aws_ec2_snapshot",
    "aws_sqs_queue",
    "aws_s3_bucket",
    "aws_iam_user",
    "aws_iam_role",
];

const REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "ap-southeast-2",
    "eu-central-1",
];
const UNITS_PER_ACCOUNT: u64 = 25;
/// 2026-11-01T00:00:00Z: "now" for the demo, so output never depends on
/// the day it is generated.
const REF_SECS: i64 = 1_793_491_200;
const DAY: i64 = 86_400;

#[derive(Debug)]
pub(crate) struct Account {
    pub(crate) id: Arc<str>,
    name: Option<Arc<str>>,
    salt: u64,
    units: u64,
    regions: Vec<Arc<str>>,
}

/// Accounts and regions of a demo cloud; scopes are generated from it.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    seed: u64,
    pub(crate) accounts: Arc<Vec<Account>>,
}

/// `total` split into `parts` nearly equal shares; share `i`.
fn split(total: u64, parts: u64, i: u64) -> u64 {
    total / parts + u64::from(i < total % parts)
}

impl Layout {
    pub(crate) fn new(scale: u64, seed: u64) -> Self {
        let scale = scale.max(1);
        let n = scale.div_ceil(UNITS_PER_ACCOUNT);
        let offset = mix(seed) % 900_000_000_000;
        let envs = ["prod", "staging", "dev", "sandbox", "data", "shared"];
        let accounts = (0..n)
            .map(|i| {
                let salt = mix(seed ^ mix(i));
                let id = 100_000_000_000 + (offset + i * 7919) % 900_000_000_000;
                let name = (!salt.is_multiple_of(10))
                    .then(|| Arc::from(format!("demo-{}-{i:03}", envs[(salt % 6) as usize])));
                let r = 2 + (salt >> 8) % 2;
                let regions = (0..r)
                    .map(|k| Arc::from(REGIONS[((i + k) % REGIONS.len() as u64) as usize]))
                    .collect();
                Account {
                    id: Arc::from(id.to_string()),
                    name,
                    salt,
                    units: split(scale, n, i),
                    regions,
                }
            })
            .collect();
        Layout {
            seed,
            accounts: Arc::new(accounts),
        }
    }

    pub(crate) fn scopes(&self) -> Vec<Scope> {
        let mut out = Vec::new();
        for a in self.accounts.iter() {
            let scope = |region: &Arc<str>, service| Scope {
                cloud: "aws",
                account_id: a.id.clone(),
                account_name: a.name.clone(),
                region: region.clone(),
                service,
            };
            let global: Arc<str> = Arc::from(GLOBAL);
            out.push(scope(&global, "account"));
            out.push(scope(&global, "iam"));
            out.push(scope(&global, "s3"));
            for r in &a.regions {
                out.push(scope(r, "ec2"));
                out.push(scope(r, "sqs"));
            }
        }
        out
    }

    /// Generates `scope` into `emit`; returns the API calls a real cloud
    /// would have needed (one per page of 1000).
    pub(crate) fn generate(&self, scope: &Scope, emit: &mut dyn FnMut(Item)) -> u64 {
        let Some(account) = self.accounts.iter().find(|a| a.id == scope.account_id) else {
            return 0;
        };
        let region_index = account
            .regions
            .iter()
            .position(|r| *r == scope.region)
            .unwrap_or(0) as u64;
        let service_salt = scope.service.bytes().fold(0u64, |h, b| mix(h ^ b as u64));
        let mut g = Gen {
            account,
            // The demo's "now" is fixed, not the run's: output never
            // depends on the day.
            rows: RowItems::new(Origin::of(
                scope,
                "aws_account",
                "aws_region",
                DateTime::<Utc>::from_timestamp(REF_SECS, 0).unwrap_or_default(),
            )),
            region: scope.region.clone(),
            rng: Rng::new(self.seed ^ account.salt ^ mix(region_index) ^ service_salt),
            salt: mix(account.salt ^ service_salt ^ mix(region_index + 1)),
            counter: 0,
            calls: 0,
            emit,
        };
        let regions = account.regions.len() as u64;
        match scope.service {
            "account" => g.account_scope(),
            "iam" => g.iam(),
            "s3" => g.s3(),
            "ec2" => g.ec2(
                split(account.units, regions, region_index),
                account.units,
                regions,
                region_index,
            ),
            "sqs" => g.sqs(split(10 * account.units, regions, region_index)),
            _ => {}
        }
        g.calls
    }
}

struct Gen<'a> {
    account: &'a Account,
    rows: RowItems,
    region: Arc<str>,
    rng: Rng,
    salt: u64,
    counter: u64,
    calls: u64,
    emit: &'a mut dyn FnMut(Item),
}

fn iso_z(secs: i64, millis: bool) -> String {
    let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    dt.to_rfc3339_opts(
        if millis {
            SecondsFormat::Millis
        } else {
            SecondsFormat::Secs
        },
        true,
    )
}

fn date(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

impl Gen<'_> {
    /// The scope's clock ([`Origin::now`]), in seconds.
    fn now(&self) -> i64 {
        self.rows.origin().now.timestamp()
    }

    /// A unique native id: `prefix-0` and 16 hex digits.
    fn hex_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!(
            "{prefix}-0{:016x}",
            mix(self.salt.wrapping_add(self.counter))
        )
    }

    fn pages(&mut self, n: u64) {
        self.calls += 1 + n / 1000;
    }

    fn reference(&self, table: &'static str, region: &Arc<str>, id: &str) -> ResourceRef {
        self.rows.origin().reference(table, region, id)
    }

    fn row(&self, table: &'static str, region: &Arc<str>, id: String) -> Row {
        self.rows.origin().row(table, Some(region), id)
    }

    /// Sends a row with its edges (see [`Row`]); returns its reference.
    fn send(&mut self, row: Row) -> ResourceRef {
        let (item, me, edges) = self.rows.items(row);
        (self.emit)(item);
        for e in edges {
            (self.emit)(Item::Edge(e));
        }
        me
    }

    /// A creation time within the last three years, in seconds.
    fn created(&mut self) -> i64 {
        self.now() - 3600 - self.rng.below(3 * 365 * DAY as u64) as i64
    }

    /// Tags as people write them: `owner` and `expires` sometimes missing,
    /// malformed or in the past; some values with quotes and unicode.
    fn tags(&mut self, name: Option<&str>) -> Tags {
        let mut t: Vec<(&str, String)> = Vec::with_capacity(5);
        if let Some(n) = name {
            t.push(("Name", n.to_string()));
        }
        let r = self.rng.below(100);
        if r < 70 {
            let owners = [
                "alice@example.com",
                "bob@example.com",
                "team-data@example.com",
                "carol@example.com",
                "dan.o'neil@example.com",
            ];
            t.push(("owner", self.rng.pick(&owners).to_string()));
        } else if r < 80 {
            let bad = ["", "TBD", "n/a", "\"Ops\" — ünïcødé 🚀", "someone"];
            t.push(("owner", self.rng.pick(&bad).to_string()));
        }
        let e = self.rng.below(100);
        if e < 35 {
            let v = match self.rng.below(100) {
                0..=49 => date(self.now() + (1 + self.rng.below(365) as i64) * DAY),
                50..=84 => date(self.now() - (1 + self.rng.below(365) as i64) * DAY),
                _ => self
                    .rng
                    .pick(&["next week", "2026-13-45", "never", "31/12/2026"])
                    .to_string(),
            };
            t.push(("expires", v));
        }
        t.push((
            "env",
            self.rng
                .pick(&["prod", "staging", "dev", "test"])
                .to_string(),
        ));
        if self.rng.chance(50) {
            t.push(("cost-center", format!("cc-{:04}", self.rng.below(40))));
        }
        Tags::new(&t)
    }

    fn account_scope(&mut self) {
        let global: Arc<str> = Arc::from(GLOBAL);
        let mut a = self.row("aws_account", &global, self.account.id.to_string());
        a.name = self.account.name.as_deref().map(str::to_string);
        a.values = vec![
            ("partition", "aws".into()),
            (
                "organization_id",
                Value::Text(format!("o-demo{:08x}", mix(self.salt) as u32)),
            ),
        ];
        self.send(a);
        let regions = self.account.regions.clone();
        for region in &regions {
            let mut r = self.row("aws_region", region, region.to_string());
            r.name = Some(region.to_string());
            let opt = if region.starts_with("ap-") {
                "opted-in"
            } else {
                "opt-in-not-required"
            };
            r.values = vec![
                ("opt_in_status", opt.into()),
                (
                    "endpoint",
                    Value::Text(format!("ec2.{region}.amazonaws.com")),
                ),
            ];
            self.send(r);
        }
        self.pages(regions.len() as u64);
    }

    fn iam(&mut self) {
        let global: Arc<str> = Arc::from(GLOBAL);
        let users = 10 * self.account.units;
        let people = [
            "alice", "bob", "carol", "dan", "erin", "frank", "grace", "heidi", "ivan", "judy",
        ];
        for k in 0..users {
            let name = format!("{}-{k:04}", people[(k % 10) as usize]);
            let mut u = self.row(
                "aws_iam_user",
                &global,
                format!("AIDA{:016X}", mix(self.salt ^ k)),
            );
            u.arn = Some(format!("arn:aws:iam::{}:user/{name}", self.account.id));
            u.name = Some(name);
            u.ctime = Value::Text(iso_z(self.created(), false));
            if self.rng.chance(60) {
                u.atime = Value::Int(
                    (self.now() - self.rng.below(90 * DAY as u64) as i64) * 1000
                        + self.rng.below(1000) as i64,
                );
            }
            u.tags = self.tags(None);
            u.values = vec![
                ("user_id", Value::Text(u.id.clone())),
                ("path", "/".into()),
                ("permissions_boundary", Value::Null),
            ];
            self.send(u);
        }
        let roles = 8 * self.account.units;
        for k in 0..roles {
            let name = role_name(k);
            let mut r = self.row("aws_iam_role", &global, role_id(self.account, k));
            r.arn = Some(format!("arn:aws:iam::{}:role/{name}", self.account.id));
            r.name = Some(name);
            r.ctime = Value::EpochMillis(self.created() * 1000 + self.rng.below(1000) as i64);
            let last_region = if self.rng.chance(70) {
                let last = self.now() - self.rng.below(30 * DAY as u64) as i64;
                r.atime = Value::Text(iso_z(last, false).replace('Z', "-00:00"));
                Value::Text(self.rng.pick(&self.account.regions).to_string())
            } else {
                Value::Null
            };
            r.tags = self.tags(None);
            let service = self
                .rng
                .pick(&[
                    "ec2.amazonaws.com",
                    "lambda.amazonaws.com",
                    "eks.amazonaws.com",
                ])
                .to_string();
            r.values = vec![
                ("role_id", Value::Text(r.id.clone())),
                ("path", "/".into()),
                (
                    "description",
                    Value::text_opt(
                        self.rng
                            .chance(50)
                            .then_some("Role for the application's workers"),
                    ),
                ),
                ("max_session_duration_seconds", Value::Int(3600)),
                (
                    "assume_role_policy_document",
                    Value::json(
                        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}),
                    ),
                ),
                ("role_last_used_region", last_region),
            ];
            self.send(r);
        }
        self.pages(users);
        self.pages(roles);
    }

    fn s3(&mut self) {
        let n = 5 * self.account.units;
        let apps = [
            "logs",
            "assets",
            "backups",
            "data-lake",
            "artifacts",
            "tfstate",
        ];
        for k in 0..n {
            let name = format!("{}-{}-{k:04}", self.rng.pick(&apps), self.account.id);
            let region = self.rng.pick(&self.account.regions).clone();
            let mut b = self.row("aws_s3_bucket", &region, name.clone());
            b.arn = Some(format!("arn:aws:s3:::{name}"));
            b.name = Some(name);
            b.ctime = Value::Timestamp {
                secs: self.created(),
                nanos: 0,
            };
            b.tags = self.tags(None);
            let versioning = match self.rng.below(10) {
                0..=3 => Value::from("Enabled"),
                4 => Value::from("Suspended"),
                _ => Value::Null,
            };
            let encryption = if self.rng.chance(90) {
                let algo = if self.rng.chance(70) {
                    "AES256"
                } else {
                    "aws:kms"
                };
                Value::json(
                    json!({"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algo}, "BucketKeyEnabled": algo == "aws:kms"}]}),
                )
            } else {
                Value::Null
            };
            let block = self.rng.chance(80);
            b.values = vec![
                ("versioning_status", versioning),
                ("mfa_delete", "Disabled".into()),
                ("encryption", encryption),
                (
                    "public_access_block",
                    Value::json(
                        json!({"BlockPublicAcls": block, "IgnorePublicAcls": block, "BlockPublicPolicy": block, "RestrictPublicBuckets": block}),
                    ),
                ),
            ];
            self.send(b);
        }
        self.pages(n);
    }

    fn sqs(&mut self, n: u64) {
        let region = self.region.clone();
        let apps = ["orders", "billing", "events", "emails", "jobs", "webhooks"];
        for k in 0..n {
            let fifo = self.rng.chance(10);
            let name = format!(
                "{}-{k:04}{}",
                self.rng.pick(&apps),
                if fifo { ".fifo" } else { "" }
            );
            let mut q = self.row("aws_sqs_queue", &region, name.clone());
            q.arn = Some(format!("arn:aws:sqs:{region}:{}:{name}", self.account.id));
            let url = format!(
                "https://sqs.{region}.amazonaws.com/{}/{name}",
                self.account.id
            );
            q.name = Some(name);
            let created = self.created();
            // SQS returns both as epoch seconds in strings.
            q.ctime = Value::Text(created.to_string());
            q.mtime = Value::EpochSeconds(created + self.rng.below(100 * DAY as u64) as i64);
            q.tags = self.tags(None);
            let redrive = if self.rng.chance(20) {
                Value::json(
                    json!({"deadLetterTargetArn": format!("arn:aws:sqs:{region}:{}:dlq-{k:04}", self.account.id), "maxReceiveCount": 5}),
                )
            } else {
                Value::Null
            };
            q.values = vec![
                ("url", Value::Text(url)),
                ("fifo_queue", Value::Bool(fifo)),
                ("visibility_timeout_seconds", Value::Text("30".into())),
                (
                    "message_retention_period_seconds",
                    Value::Text("345600".into()),
                ),
                ("maximum_message_size_bytes", Value::Text("262144".into())),
                ("delay_seconds", Value::Text("0".into())),
                ("receive_message_wait_time_seconds", Value::Text("0".into())),
                (
                    "approximate_number_of_messages",
                    Value::Text(self.rng.below(5000).to_string()),
                ),
                (
                    "approximate_number_of_messages_not_visible",
                    Value::Text(self.rng.below(50).to_string()),
                ),
                (
                    "approximate_number_of_messages_delayed",
                    Value::Text("0".into()),
                ),
                (
                    "content_based_deduplication",
                    Value::bool_opt(fifo.then_some(false)),
                ),
                ("kms_master_key_id", Value::Null),
                ("sqs_managed_sse_enabled", Value::Text("true".into())),
                ("redrive_policy", redrive),
                ("policy", Value::Null),
            ];
            self.send(q);
        }
        self.pages(n);
    }

    fn ec2(&mut self, units: u64, account_units: u64, regions: u64, region_index: u64) {
        let region = self.region.clone();
        let acct = self.account.id.clone();
        let zones = ["a", "b", "c"];
        let n_vpc = units.max(1);
        // References with the native ids the demo writes into other rows.
        let mut subnets: Vec<(ResourceRef, String, String)> = Vec::new();
        let mut sgs: Vec<(ResourceRef, String)> = Vec::new();
        let mut vpcs: Vec<String> = Vec::new();
        for v in 0..n_vpc {
            let id = self.hex_id("vpc");
            let mut vpc = self.row("aws_ec2_vpc", &region, id);
            vpc.arn = Some(format!("arn:aws:ec2:{region}:{acct}:vpc/{}", vpc.id));
            vpc.name = Some(format!(
                "vpc-{}",
                if v == 0 {
                    "main".to_string()
                } else {
                    format!("app-{v}")
                }
            ));
            vpc.tags = self.tags(vpc.name.as_deref());
            let cidr = format!("10.{}.0.0/16", v % 256);
            vpc.values = vec![
                ("cidr_block", Value::Text(cidr.clone())),
                ("is_default", Value::Bool(v == 0)),
                ("state", "available".into()),
                ("instance_tenancy", "default".into()),
                (
                    "dhcp_options_id",
                    Value::Text(format!("dopt-0{:016x}", mix(self.salt))),
                ),
                ("owner_id", Value::Text(acct.to_string())),
                (
                    "cidr_block_association_set",
                    Value::json(
                        json!([{"CidrBlock": cidr, "CidrBlockState": {"State": "associated"}}]),
                    ),
                ),
            ];
            let vpc_id = vpc.id.clone();
            vpcs.push(vpc_id.clone());
            let vr = self.send(vpc);
            for (s, z) in zones.iter().enumerate() {
                let id = self.hex_id("subnet");
                let mut sn = self.row("aws_ec2_subnet", &region, id);
                sn.arn = Some(format!("arn:aws:ec2:{region}:{acct}:subnet/{}", sn.id));
                sn.zone = Some(format!("{region}{z}"));
                sn.name = Some(format!("private-{z}"));
                sn.tags = self.tags(sn.name.as_deref());
                sn.values = vec![
                    ("vpc_id", Value::Text(vpc_id.clone())),
                    (
                        "cidr_block",
                        Value::Text(format!("10.{}.{s}.0/24", v % 256)),
                    ),
                    (
                        "availability_zone_id",
                        Value::Text(format!(
                            "{}-az{}",
                            region.split('-').map(|p| &p[..1]).collect::<String>(),
                            s + 1
                        )),
                    ),
                    (
                        "available_ip_address_count",
                        Value::Int(200 + self.rng.below(51) as i64),
                    ),
                    ("default_for_az", Value::Bool(false)),
                    ("map_public_ip_on_launch", Value::Bool(self.rng.chance(20))),
                    ("state", "available".into()),
                ];
                let zone = sn.zone.clone().unwrap_or_default();
                let subnet_id = sn.id.clone();
                sn.within([vr]);
                let sr = self.send(sn);
                subnets.push((sr, zone, subnet_id));
            }
            for k in 0..3 {
                let id = self.hex_id("sg");
                let mut sg = self.row("aws_ec2_security_group", &region, id);
                sg.arn = Some(format!(
                    "arn:aws:ec2:{region}:{acct}:security-group/{}",
                    sg.id
                ));
                sg.name = Some(["default", "web", "db"][k].to_string());
                let port = [0, 443, 5432][k];
                sg.values = vec![
                    ("vpc_id", Value::Text(vpc_id.clone())),
                    (
                        "description",
                        Value::Text(format!(
                            "{} security group",
                            sg.name.as_deref().unwrap_or("")
                        )),
                    ),
                    ("owner_id", Value::Text(acct.to_string())),
                    (
                        "ip_permissions",
                        Value::json(
                            json!([{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]),
                        ),
                    ),
                    (
                        "ip_permissions_egress",
                        Value::json(
                            json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
                        ),
                    ),
                ];
                let sg_id = sg.id.clone();
                sg.within([vr]);
                let gr = self.send(sg);
                sgs.push((gr, sg_id));
            }
        }
        let n_inst = split(20 * account_units, regions, region_index);
        let roles = 8 * account_units;
        let mut volumes: Vec<(ResourceRef, i64, String)> = Vec::new();
        let global: Arc<str> = Arc::from(GLOBAL);
        for i in 0..n_inst {
            let vpc = i % n_vpc;
            let (subnet, zone, subnet_id) = subnets[(vpc * 3 + self.rng.below(3)) as usize].clone();
            let my_sgs: Vec<(ResourceRef, String)> = if self.rng.chance(50) {
                vec![sgs[(vpc * 3 + 1) as usize].clone()]
            } else {
                vec![
                    sgs[(vpc * 3 + 1) as usize].clone(),
                    sgs[(vpc * 3 + 2) as usize].clone(),
                ]
            };
            let id = self.hex_id("i");
            let mut inst = self.row("aws_ec2_instance", &region, id);
            inst.arn = Some(format!("arn:aws:ec2:{region}:{acct}:instance/{}", inst.id));
            inst.zone = Some(zone.clone());
            let app = self
                .rng
                .pick(&["web", "api", "worker", "db", "batch", "cache"])
                .to_string();
            inst.name = self.rng.chance(90).then(|| format!("{app}-{i:04}"));
            let launched = self.created();
            let ist = chrono::FixedOffset::east_opt(19_800);
            inst.ctime = match ist {
                // Same instant, written with an offset (+05:30).
                Some(ist) if self.rng.chance(10) => {
                    let t = DateTime::<Utc>::from_timestamp(launched, 0).unwrap_or_default();
                    Value::Text(
                        t.with_timezone(&ist)
                            .to_rfc3339_opts(SecondsFormat::Secs, false),
                    )
                }
                _ => Value::Text(iso_z(launched, true)),
            };
            inst.tags = self.tags(inst.name.as_deref());
            let state = *self
                .rng
                .pick(&["running", "running", "running", "stopped", "terminated"]);
            let itype = *self.rng.pick(&[
                "t3.micro",
                "t3.large",
                "m5.large",
                "m6g.xlarge",
                "c5.2xlarge",
                "r6i.4xlarge",
            ]);
            let arm = itype.starts_with("m6g");
            let profile = self.rng.chance(40).then(|| self.rng.below(roles.max(1)));
            let root = self.hex_id("vol");
            let data = self.rng.chance(30).then(|| self.hex_id("vol"));
            let mut mappings = vec![
                json!({"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": root, "Status": "attached", "AttachTime": iso_z(launched, true), "DeleteOnTermination": true}}),
            ];
            if let Some(d) = &data {
                mappings.push(json!({"DeviceName": "/dev/sdf", "Ebs": {"VolumeId": d, "Status": "attached", "AttachTime": iso_z(launched + 60, true), "DeleteOnTermination": false}}));
            }
            let public = (state == "running" && self.rng.chance(30)).then(|| {
                format!(
                    "54.{}.{}.{}",
                    self.rng.below(256),
                    self.rng.below(256),
                    self.rng.below(256)
                )
            });
            inst.values =
                vec![
                    ("instance_type", itype.into()),
                    ("state", state.into()),
                    ("vpc_id", Value::Text(vpcs[vpc as usize].clone())),
                    ("subnet_id", Value::Text(subnet_id)),
                    (
                        "image_id",
                        Value::Text(format!("ami-0{:016x}", mix(self.rng.below(20)))),
                    ),
                    (
                        "private_ip_address",
                        Value::Text(format!(
                            "10.{}.{}.{}",
                            vpc % 256,
                            self.rng.below(3),
                            4 + self.rng.below(250)
                        )),
                    ),
                    ("public_ip_address", Value::text_opt(public)),
                    (
                        "key_name",
                        Value::text_opt(self.rng.chance(60).then_some("deploy-key")),
                    ),
                    ("platform_details", "Linux/UNIX".into()),
                    ("architecture", if arm { "arm64" } else { "x86_64" }.into()),
                    ("core_count", Value::Int(1 << self.rng.below(4))),
                    ("threads_per_core", Value::Int(if arm { 1 } else { 2 })),
                    ("ebs_optimized", Value::Bool(self.rng.chance(70))),
                    ("monitoring_state", "disabled".into()),
                    (
                        "iam_instance_profile_arn",
                        Value::text_opt(profile.map(|k| {
                            format!("arn:aws:iam::{acct}:instance-profile/{}", role_name(k))
                        })),
                    ),
                    (
                        "security_groups",
                        Value::json(json!(my_sgs
                            .iter()
                            .map(|(_, id)| json!({"GroupId": id}))
                            .collect::<Vec<_>>())),
                    ),
                    ("block_device_mappings", Value::json(json!(mappings))),
                ];
            let inst_id = inst.id.clone();
            inst.within([subnet]).within(my_sgs.iter().map(|(g, _)| *g));
            if let Some(k) = profile {
                inst.from([self.reference("aws_iam_role", &global, &role_id(self.account, k))]);
            }
            let ir = self.send(inst);
            for (vid, size_gib, when) in [
                (Some(root), 8 + 8 * self.rng.below(8), launched),
                (data, 100 * (1 + self.rng.below(10)), launched + 60),
            ] {
                let Some(vid) = vid else { continue };
                let att = json!([{"InstanceId": inst_id, "State": "attached", "AttachTime": iso_z(when, true), "DeleteOnTermination": when == launched}]);
                let vr = self.volume(&region, vid.clone(), &zone, size_gib, when, Some(ir), att);
                volumes.push((vr, size_gib as i64, vid));
            }
        }
        let n_free = split(6 * account_units, regions, region_index);
        for _ in 0..n_free {
            let vid = self.hex_id("vol");
            let zone = subnets[self.rng.below(subnets.len() as u64) as usize]
                .1
                .clone();
            let when = self.created();
            let size = 50 * (1 + self.rng.below(20));
            let vr = self.volume(&region, vid.clone(), &zone, size, when, None, json!([]));
            volumes.push((vr, size as i64, vid));
        }
        let n_snap = split(12 * account_units, regions, region_index);
        for k in 0..n_snap {
            let id = self.hex_id("snap");
            let mut s = self.row("aws_ec2_snapshot", &region, id);
            s.arn = Some(format!("arn:aws:ec2:{region}::snapshot/{}", s.id));
            let source = (!volumes.is_empty() && self.rng.chance(80))
                .then(|| volumes[self.rng.below(volumes.len() as u64) as usize].clone());
            let (vid, size) = match &source {
                Some((_, size, id)) => (id.clone(), *size),
                None => (format!("vol-0{:016x}", mix(self.salt ^ k ^ 0xdead)), 8),
            };
            let started = self.created();
            s.ctime = if self.rng.below(500) == 0 {
                Value::Text(
                    self.rng
                        .pick(&["2025-02-30 12:00:00", "yesterday", "13/01/2025 10:00"])
                        .to_string(),
                )
            } else {
                // No zone at all, as some APIs write it.
                let t = DateTime::<Utc>::from_timestamp(started, 0).unwrap_or_default();
                Value::Text(format!(
                    "{}.{:06}",
                    t.format("%Y-%m-%d %H:%M:%S"),
                    self.rng.below(1_000_000)
                ))
            };
            s.tags = self.tags(None);
            s.values = vec![
                ("volume_id", Value::Text(vid)),
                ("volume_size_bytes", Value::Int(size << 30)),
                ("state", "completed".into()),
                ("progress", "100%".into()),
                ("encrypted", Value::Bool(self.rng.chance(60))),
                ("owner_id", Value::Text(acct.to_string())),
                (
                    "description",
                    Value::text_opt(self.rng.chance(50).then(|| format!("nightly backup #{k}"))),
                ),
                ("storage_tier", "standard".into()),
            ];
            s.from(source.map(|(v, _, _)| v));
            self.send(s);
        }
        self.pages(n_vpc);
        self.pages(n_vpc * 3);
        self.pages(n_vpc * 3);
        self.pages(n_inst);
        self.pages(volumes.len() as u64);
        self.pages(n_snap);
    }

    /// A volume, `in-use` by `instance` or `available`.
    #[allow(clippy::too_many_arguments)]
    fn volume(
        &mut self,
        region: &Arc<str>,
        id: String,
        zone: &str,
        size_gib: u64,
        when: i64,
        instance: Option<ResourceRef>,
        attachments: serde_json::Value,
    ) -> ResourceRef {
        let state = if instance.is_some() {
            "in-use"
        } else {
            "available"
        };
        let acct = self.account.id.clone();
        let mut v = self.row("aws_ec2_volume", region, id);
        v.arn = Some(format!("arn:aws:ec2:{region}:{acct}:volume/{}", v.id));
        v.zone = Some(zone.to_string());
        // An SDK date-time with milliseconds.
        v.ctime = Value::Timestamp {
            secs: when,
            nanos: (self.rng.below(1000) * 1_000_000) as u32,
        };
        v.tags = self.tags(None);
        let gp3 = self.rng.chance(70);
        let encrypted = self.rng.chance(60);
        v.values = vec![
            ("volume_type", if gp3 { "gp3" } else { "gp2" }.into()),
            ("size_bytes", Value::Int((size_gib as i64) << 30)),
            (
                "iops",
                Value::Int(if gp3 {
                    3000
                } else {
                    (3 * size_gib as i64).max(100)
                }),
            ),
            ("throughput_mibps", Value::int_opt(gp3.then_some(125))),
            ("state", state.into()),
            ("encrypted", Value::Bool(encrypted)),
            (
                "kms_key_id",
                Value::text_opt(encrypted.then(|| format!("arn:aws:kms:{region}:{acct}:key/demo"))),
            ),
            ("snapshot_id", Value::Null),
            ("multi_attach_enabled", Value::Bool(false)),
            ("attachments", Value::json(attachments)),
        ];
        // The instance must go (or detach it) before the volume.
        v.used_by(instance);
        self.send(v)
    }
}

fn role_name(k: u64) -> String {
    format!("app-role-{k:04}")
}

fn role_id(account: &Account, k: u64) -> String {
    format!("AROA{:016X}", mix(account.salt ^ 0x5a5a ^ mix(k)))
}
