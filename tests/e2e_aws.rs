//! `cloudtab sync --source aws` against the AWS API emulator (moto), which
//! the test starts on 127.0.0.1 and seeds through the AWS SDK for Rust.

mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/http.rs"]
mod http;
#[path = "support/moto.rs"]
mod moto;

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use common::*;
use fault_proxy::{FaultProxy, Faults};
use moto::Moto;
use tempfile::TempDir;

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// Creation time in µs as the API returned it, and tags.
type Expected = (Option<i64>, BTreeMap<String, String>);

/// What the seeding created, as the API described it back.
#[derive(Debug, Default)]
struct Seeded {
    /// (table, native id) → what the row must hold.
    resources: BTreeMap<(String, String), Expected>,
    /// (from table, from id, to table, to id, edge type).
    edges: Vec<(String, String, String, String, String)>,
    /// Secrets the seeding set (the access key's, database master
    /// passwords): they must appear nowhere.
    secrets: Vec<String>,
}

impl Seeded {
    /// A resource the sync must read: its table, id, creation time (µs)
    /// and tags.
    fn add(
        &mut self,
        table: &str,
        id: impl Into<String>,
        ctime: Option<i64>,
        tags: BTreeMap<String, String>,
    ) {
        self.resources
            .insert((table.to_string(), id.into()), (ctime, tags));
    }

    /// An edge the sync must write.
    fn link(&mut self, ft: &str, fid: &str, tt: &str, tid: &str, kind: &str) {
        self.edges
            .push((ft.into(), fid.into(), tt.into(), tid.into(), kind.into()));
    }
}

/// The microsecond the API sent: SDK date-times read from epoch seconds
/// with a fraction (EKS `createdAt`) are binary floats a hair off the
/// decimal, so the nearest microsecond, not the truncated one (issue #12;
/// DynamoDB's is also checked against the raw response).
fn micros(t: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    t.map(|t| t.secs() * 1_000_000 + ((t.subsec_nanos() + 500) / 1000) as i64)
}

/// The creation time of DynamoDB table `name` as the API's JSON writes it
/// (epoch seconds with a decimal fraction), to the nearest microsecond of
/// that decimal: read from the raw response, not through the SDK's float.
fn ddb_creation_micros(endpoint: &str, name: &str) -> i64 {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let body = format!(r#"{{"TableName":"{name}"}}"#);
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.DescribeTable\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let at = answer
        .find("\"CreationDateTime\":")
        .unwrap_or_else(|| panic!("no CreationDateTime in {answer}"));
    let number: String = answer[at + "\"CreationDateTime\":".len()..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let (whole, fraction) = number.split_once('.').unwrap_or((&number, ""));
    let digits: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(7)
        .collect();
    let seventh: i64 = digits[6..].parse().unwrap();
    whole.parse::<i64>().unwrap() * 1_000_000
        + digits[..6].parse::<i64>().unwrap()
        + i64::from(seventh >= 5)
}

fn ec2_tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
        .collect()
}

fn spec(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(ec2_tags(pairs)))
        .build()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn seed(endpoint: &str) -> Seeded {
    let mut s = Seeded::default();
    let mut add = |table: &str, id: &str, ctime: Option<i64>, tags: BTreeMap<String, String>| {
        s.resources
            .insert((table.to_string(), id.to_string()), (ctime, tags));
    };
    let mut edges = Vec::new();
    // RDS and EKS, seeded per region by their own function.
    let mut more = Seeded::default();
    for (n, region) in REGIONS.iter().enumerate() {
        let conf = moto::sdk_config(endpoint, region).await;
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let owner = [("owner", "team-a"), ("expires", "2020-01-01")];
        let quoted = [("Name", "it's \"quoted\" ünï 🚀"), ("cost-center", "cc-1")];
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .tag_specifications(spec(ResourceType::Vpc, &[("Name", "main"), owner[0]]))
            .send()
            .await
            .unwrap();
        let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        add(
            "aws_ec2_vpc",
            &vpc_id,
            None,
            map(&[("Name", "main"), owner[0]]),
        );
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block("10.0.1.0/24")
            .availability_zone(format!("{region}a"))
            .tag_specifications(spec(ResourceType::Subnet, &quoted))
            .send()
            .await
            .unwrap();
        let subnet_id = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
        add("aws_ec2_subnet", &subnet_id, None, map(&quoted));
        edges.push((
            "aws_ec2_vpc".into(),
            vpc_id.clone(),
            "aws_ec2_subnet".into(),
            subnet_id.clone(),
            "default".into(),
        ));
        edges.push((
            "aws_ec2_vpc".into(),
            vpc_id.clone(),
            "aws_ec2_subnet".into(),
            subnet_id.clone(),
            "delete".into(),
        ));
        let sg = ec2
            .create_security_group()
            .group_name(format!("web-{n}"))
            .description("web servers")
            .vpc_id(&vpc_id)
            .send()
            .await
            .unwrap();
        let sg_id = sg.group_id().unwrap().to_string();
        let image = ec2
            .describe_images()
            .owners("amazon")
            .send()
            .await
            .unwrap()
            .images()
            .first()
            .and_then(|i| i.image_id())
            .unwrap()
            .to_string();
        let run = ec2
            .run_instances()
            .image_id(image)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .subnet_id(&subnet_id)
            .security_group_ids(&sg_id)
            .tag_specifications(spec(ResourceType::Instance, &owner))
            .send()
            .await
            .unwrap();
        let inst = &run.instances()[0];
        let inst_id = inst.instance_id().unwrap().to_string();
        add(
            "aws_ec2_instance",
            &inst_id,
            micros(inst.launch_time()),
            map(&owner),
        );
        // One instance type row per region (checked below by its edges
        // and its vCPUs and memory).
        edges.push((
            "aws_ec2_instance_type".into(),
            "t3.micro".into(),
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "default".into(),
        ));
        edges.push((
            "aws_ec2_subnet".into(),
            subnet_id.clone(),
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "default".into(),
        ));
        edges.push((
            "aws_ec2_security_group".into(),
            sg_id.clone(),
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "default".into(),
        ));
        edges.push((
            "aws_region".into(),
            region.to_string(),
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "default".into(),
        ));
        let vol = ec2
            .create_volume()
            .availability_zone(format!("{region}a"))
            .size(20)
            .tag_specifications(spec(ResourceType::Volume, &[("Name", "data")]))
            .send()
            .await
            .unwrap();
        let vol_id = vol.volume_id().unwrap().to_string();
        ec2.attach_volume()
            .volume_id(&vol_id)
            .instance_id(&inst_id)
            .device("/dev/sdf")
            .send()
            .await
            .unwrap();
        add(
            "aws_ec2_volume",
            &vol_id,
            micros(vol.create_time()),
            map(&[("Name", "data")]),
        );
        edges.push((
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "aws_ec2_volume".into(),
            vol_id.clone(),
            "default".into(),
        ));
        edges.push((
            "aws_ec2_volume".into(),
            vol_id.clone(),
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "delete".into(),
        ));
        let snap = ec2
            .create_snapshot()
            .volume_id(&vol_id)
            .description("nightly")
            .send()
            .await
            .unwrap();
        let snap_id = snap.snapshot_id().unwrap().to_string();
        add(
            "aws_ec2_snapshot",
            &snap_id,
            micros(snap.start_time()),
            BTreeMap::new(),
        );
        edges.push((
            "aws_ec2_volume".into(),
            vol_id.clone(),
            "aws_ec2_snapshot".into(),
            snap_id,
            "default".into(),
        ));

        // A load balancer → listener → target group → the instance.
        if n == 0 {
            use aws_sdk_elasticloadbalancingv2 as elb;
            let lb_client = elb::Client::new(&conf);
            let tg = lb_client
                .create_target_group()
                .name("web")
                .protocol(elb::types::ProtocolEnum::Http)
                .port(80)
                .vpc_id(&vpc_id)
                .target_type(elb::types::TargetTypeEnum::Instance)
                .send()
                .await
                .unwrap();
            let tg_arn = tg.target_groups()[0]
                .target_group_arn()
                .unwrap()
                .to_string();
            // The emulator keeps one registration per instance; a test
            // adds more ports through the fault proxy (`extra_ports`).
            lb_client
                .register_targets()
                .target_group_arn(&tg_arn)
                .targets(
                    elb::types::TargetDescription::builder()
                        .id(&inst_id)
                        .port(80)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            let lb = lb_client
                .create_load_balancer()
                .name("web-lb")
                .subnets(&subnet_id)
                .security_groups(&sg_id)
                .tags(elb::types::Tag::builder().key("owner").value("web").build())
                .send()
                .await
                .unwrap();
            let lb = &lb.load_balancers()[0];
            let lb_arn = lb.load_balancer_arn().unwrap().to_string();
            let listener = lb_client
                .create_listener()
                .load_balancer_arn(&lb_arn)
                .protocol(elb::types::ProtocolEnum::Http)
                .port(80)
                .default_actions(
                    elb::types::Action::builder()
                        .r#type(elb::types::ActionTypeEnum::Forward)
                        .target_group_arn(&tg_arn)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            let listener_arn = listener.listeners()[0].listener_arn().unwrap().to_string();
            add(
                "aws_elbv2_load_balancer",
                &lb_arn,
                micros(lb.created_time()),
                map(&[("owner", "web")]),
            );
            add("aws_elbv2_listener", &listener_arn, None, BTreeMap::new());
            add("aws_elbv2_target_group", &tg_arn, None, BTreeMap::new());
            for (ft, fid, tt, tid) in [
                (
                    "aws_ec2_vpc",
                    vpc_id.clone(),
                    "aws_elbv2_load_balancer",
                    lb_arn.clone(),
                ),
                (
                    "aws_elbv2_load_balancer",
                    lb_arn.clone(),
                    "aws_elbv2_listener",
                    listener_arn.clone(),
                ),
                (
                    "aws_elbv2_listener",
                    listener_arn.clone(),
                    "aws_elbv2_target_group",
                    tg_arn.clone(),
                ),
                (
                    "aws_elbv2_target_group",
                    tg_arn.clone(),
                    "aws_ec2_instance",
                    inst_id.clone(),
                ),
            ] {
                edges.push((ft.into(), fid, tt.into(), tid, "default".into()));
            }
        }
        // Networking around the instance.
        let eip = ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .unwrap();
        let alloc = eip.allocation_id().unwrap().to_string();
        ec2.associate_address()
            .allocation_id(&alloc)
            .instance_id(&inst_id)
            .send()
            .await
            .unwrap();
        add("aws_ec2_elastic_ip", &alloc, None, BTreeMap::new());
        let eni = ec2
            .describe_network_interfaces()
            .send()
            .await
            .unwrap()
            .network_interfaces()
            .iter()
            .find(|n| n.attachment().and_then(|a| a.instance_id()) == Some(inst_id.as_str()))
            .and_then(|n| n.network_interface_id())
            .unwrap()
            .to_string();
        add("aws_ec2_network_interface", &eni, None, BTreeMap::new());
        edges.push((
            "aws_ec2_instance".into(),
            inst_id.clone(),
            "aws_ec2_network_interface".into(),
            eni.clone(),
            "default".into(),
        ));
        edges.push((
            "aws_ec2_network_interface".into(),
            eni,
            "aws_ec2_elastic_ip".into(),
            alloc,
            "default".into(),
        ));
        let key = ec2
            .create_key_pair()
            .key_name(format!("deploy-{n}"))
            .send()
            .await
            .unwrap();
        add(
            "aws_ec2_key_pair",
            key.key_pair_id().unwrap(),
            None,
            BTreeMap::new(),
        );
        let igw = ec2.create_internet_gateway().send().await.unwrap();
        let igw_id = igw
            .internet_gateway()
            .unwrap()
            .internet_gateway_id()
            .unwrap()
            .to_string();
        ec2.attach_internet_gateway()
            .internet_gateway_id(&igw_id)
            .vpc_id(&vpc_id)
            .send()
            .await
            .unwrap();
        add("aws_ec2_internet_gateway", &igw_id, None, BTreeMap::new());
        edges.push((
            "aws_ec2_vpc".into(),
            vpc_id.clone(),
            "aws_ec2_internet_gateway".into(),
            igw_id,
            "delete".into(),
        ));
        let nat_eip = ec2
            .allocate_address()
            .domain(aws_sdk_ec2::types::DomainType::Vpc)
            .send()
            .await
            .unwrap();
        let nat_alloc = nat_eip.allocation_id().unwrap().to_string();
        add("aws_ec2_elastic_ip", &nat_alloc, None, BTreeMap::new());
        let nat = ec2
            .create_nat_gateway()
            .subnet_id(&subnet_id)
            .allocation_id(nat_alloc)
            .send()
            .await
            .unwrap();
        let nat_gw = nat.nat_gateway().unwrap();
        let nat_id = nat_gw.nat_gateway_id().unwrap().to_string();
        add(
            "aws_ec2_nat_gateway",
            &nat_id,
            micros(nat_gw.create_time()),
            BTreeMap::new(),
        );
        edges.push((
            "aws_ec2_subnet".into(),
            subnet_id.clone(),
            "aws_ec2_nat_gateway".into(),
            nat_id,
            "default".into(),
        ));
        let rt = ec2
            .create_route_table()
            .vpc_id(&vpc_id)
            .send()
            .await
            .unwrap();
        let rt_id = rt
            .route_table()
            .unwrap()
            .route_table_id()
            .unwrap()
            .to_string();
        add("aws_ec2_route_table", &rt_id, None, BTreeMap::new());
        edges.push((
            "aws_ec2_vpc".into(),
            vpc_id.clone(),
            "aws_ec2_route_table".into(),
            rt_id,
            "default".into(),
        ));
        let acl = ec2
            .create_network_acl()
            .vpc_id(&vpc_id)
            .send()
            .await
            .unwrap();
        let acl_id = acl
            .network_acl()
            .unwrap()
            .network_acl_id()
            .unwrap()
            .to_string();
        add("aws_ec2_network_acl", &acl_id, None, BTreeMap::new());
        edges.push((
            "aws_ec2_vpc".into(),
            vpc_id.clone(),
            "aws_ec2_network_acl".into(),
            acl_id,
            "delete".into(),
        ));
        let ami = ec2
            .create_image()
            .instance_id(&inst_id)
            .name(format!("golden-{n}"))
            .send()
            .await
            .unwrap();
        add(
            "aws_ec2_image",
            ami.image_id().unwrap(),
            None,
            BTreeMap::new(),
        );

        let sqs = aws_sdk_sqs::Client::new(&conf);
        let q = sqs
            .create_queue()
            .queue_name(format!("jobs-{n}"))
            .tags("owner", "o'brien")
            .tags("note", "ünïcødé \"q\"")
            .send()
            .await
            .unwrap();
        let url = q.queue_url().unwrap().to_string();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::CreatedTimestamp)
            .send()
            .await
            .unwrap();
        let created_text = attrs
            .attributes()
            .unwrap()
            .get(&aws_sdk_sqs::types::QueueAttributeName::CreatedTimestamp)
            .unwrap()
            .clone();
        // Epoch seconds; the emulator adds a fraction that AWS does not.
        let (whole, frac) = created_text.split_once('.').unwrap_or((&created_text, ""));
        let created = whole.parse::<i64>().unwrap() * 1_000_000
            + format!("{:0<6}", &frac[..frac.len().min(6)])
                .parse::<i64>()
                .unwrap();
        add(
            "aws_sqs_queue",
            &format!("jobs-{n}"),
            Some(created),
            map(&[("owner", "o'brien"), ("note", "ünïcødé \"q\"")]),
        );
        edges.push((
            "aws_region".into(),
            region.to_string(),
            "aws_sqs_queue".into(),
            format!("jobs-{n}"),
            "default".into(),
        ));

        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        );
        let bucket = format!("cloudtab-test-{n}");
        let mut create = s3.create_bucket().bucket(&bucket);
        if *region != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(*region))
                    .build(),
            );
        }
        create.send().await.unwrap();
        if n == 0 {
            s3.put_bucket_tagging()
                .bucket(&bucket)
                .tagging(
                    aws_sdk_s3::types::Tagging::builder()
                        .tag_set(
                            aws_sdk_s3::types::Tag::builder()
                                .key("owner")
                                .value("data")
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
        let listed = s3.list_buckets().send().await.unwrap();
        let ctime = listed
            .buckets()
            .iter()
            .find(|b| b.name() == Some(bucket.as_str()))
            .and_then(|b| micros(b.creation_date()));
        let tags = if n == 0 {
            map(&[("owner", "data")])
        } else {
            BTreeMap::new()
        };
        add("aws_s3_bucket", &bucket, ctime, tags);
        seed_rds_and_eks(&conf, region, n, &vpc_id, &subnet_id, &sg_id, &mut more).await;
        seed_ec2_more(&conf, region, n, &vpc_id, &mut more).await;
    }
    edges.append(&mut more.edges);
    let conf = moto::sdk_config(endpoint, "us-east-1").await;
    let iam = aws_sdk_iam::Client::new(&conf);
    let user = iam
        .create_user()
        .user_name("alice")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("owner")
                .value("sec")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    add(
        "aws_iam_user",
        "alice",
        micros(user.user().map(|u| u.create_date())),
        map(&[("owner", "sec")]),
    );
    let role = iam
        .create_role()
        .role_name("app")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    add(
        "aws_iam_role",
        "app",
        micros(role.role().map(|r| r.create_date())),
        BTreeMap::new(),
    );
    let policy = iam
        .create_policy()
        .policy_name("read-inventory")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_string();
    add("aws_iam_policy", "read-inventory", None, BTreeMap::new());
    let group = iam.create_group().group_name("ops").send().await.unwrap();
    add(
        "aws_iam_group",
        "ops",
        micros(group.group().map(|g| g.create_date())),
        BTreeMap::new(),
    );
    iam.add_user_to_group()
        .group_name("ops")
        .user_name("alice")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("app")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("ops")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    for (from, id) in [
        ("aws_iam_user", "alice"),
        ("aws_iam_role", "app"),
        ("aws_iam_group", "ops"),
    ] {
        edges.push((
            from.into(),
            id.into(),
            "aws_iam_policy".into(),
            "read-inventory".into(),
            "default".into(),
        ));
    }
    edges.push((
        "aws_iam_group".into(),
        "ops".into(),
        "aws_iam_user".into(),
        "alice".into(),
        "default".into(),
    ));
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    add(
        "aws_iam_access_key",
        key.access_key_id(),
        micros(key.create_date()),
        BTreeMap::new(),
    );
    edges.push((
        "aws_iam_user".into(),
        "alice".into(),
        "aws_iam_access_key".into(),
        key.access_key_id().into(),
        "default".into(),
    ));
    s.secrets.push(key.secret_access_key().to_string());
    let profile = iam
        .create_instance_profile()
        .instance_profile_name("app-profile")
        .send()
        .await
        .unwrap();
    add(
        "aws_iam_instance_profile",
        "app-profile",
        micros(profile.instance_profile().map(|p| p.create_date())),
        BTreeMap::new(),
    );
    iam.add_role_to_instance_profile()
        .instance_profile_name("app-profile")
        .role_name("app")
        .send()
        .await
        .unwrap();
    edges.push((
        "aws_iam_role".into(),
        "app".into(),
        "aws_iam_instance_profile".into(),
        "app-profile".into(),
        "default".into(),
    ));
    // A function running as role `app`, and a DynamoDB table.
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let role_arn = role.role().unwrap().arn().to_string();
    lambda
        .create_function()
        .function_name("worker")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(&role_arn)
        .handler("app.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_smithy_types::Blob::new(
                    [&b"PK\x05\x06"[..], &[0u8; 18][..]].concat(),
                ))
                .build(),
        )
        .tags("owner", "jobs")
        .send()
        .await
        .unwrap();
    add(
        "aws_lambda_function",
        "worker",
        None,
        map(&[("owner", "jobs")]),
    );
    edges.push((
        "aws_lambda_function".into(),
        "worker".into(),
        "aws_iam_role".into(),
        "app".into(),
        "default".into(),
    ));
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = ddb
        .create_table()
        .table_name("orders")
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .tags(
            aws_sdk_dynamodb::types::Tag::builder()
                .key("owner")
                .value("shop")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // The SDK's own value would be the binary float the JSON number became;
    // the table must hold the decimal the API sent (issue #12).
    let sent = ddb_creation_micros(endpoint, "orders");
    let via_sdk = micros(
        table
            .table_description()
            .and_then(|t| t.creation_date_time()),
    );
    assert!(
        via_sdk.is_some_and(|v| (v - sent).abs() <= 1),
        "{via_sdk:?} {sent}"
    );
    add(
        "aws_dynamodb_table",
        "orders",
        Some(sent),
        map(&[("owner", "shop")]),
    );
    // The profile on the us-east-1 instance.
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    s.edges = edges;
    s.resources.append(&mut more.resources);
    s.secrets.append(&mut more.secrets);
    let instances = ec2.describe_instances().send().await.unwrap();
    let inst = instances.reservations()[0].instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    ec2.associate_iam_instance_profile()
        .instance_id(&inst)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("app-profile")
                .build(),
        )
        .send()
        .await
        .unwrap();
    s.edges.push((
        "aws_iam_instance_profile".into(),
        "app-profile".into(),
        "aws_ec2_instance".into(),
        inst,
        "default".into(),
    ));
    s
}

/// An RDS subnet group with a cluster and its instance in the first
/// region, a PostgreSQL instance in both, an EKS cluster with a node group
/// in the second. The EKS roles are IAM role `app`, seeded later.
async fn seed_rds_and_eks(
    conf: &aws_types::SdkConfig,
    region: &str,
    n: usize,
    vpc_id: &str,
    subnet_id: &str,
    sg_id: &str,
    s: &mut Seeded,
) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    // A subnet group needs subnets in two zones.
    let other = ec2
        .create_subnet()
        .vpc_id(vpc_id)
        .cidr_block("10.0.2.0/24")
        .availability_zone(format!("{region}b"))
        .send()
        .await
        .unwrap();
    let other = other.subnet().unwrap().subnet_id().unwrap().to_string();
    let rds = aws_sdk_rds::Client::new(conf);
    let group = format!("db-subnets-{n}");
    rds.create_db_subnet_group()
        .db_subnet_group_name(&group)
        .db_subnet_group_description("databases")
        .subnet_ids(subnet_id)
        .subnet_ids(&other)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("owner")
                .value("dba")
                .build(),
        )
        .send()
        .await
        .unwrap();
    s.add(
        "aws_rds_subnet_group",
        group.clone(),
        None,
        map(&[("owner", "dba")]),
    );
    s.link(
        "aws_ec2_vpc",
        vpc_id,
        "aws_rds_subnet_group",
        &group,
        "default",
    );
    s.link(
        "aws_ec2_subnet",
        &other,
        "aws_rds_subnet_group",
        &group,
        "default",
    );
    let rds_tag = |k: &str, v: &str| aws_sdk_rds::types::Tag::builder().key(k).value(v).build();
    let password = format!("db-master-Secret-{n}");
    let pg = format!("pg-{n}");
    let made = rds
        .create_db_instance()
        .db_instance_identifier(&pg)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password(&password)
        .db_subnet_group_name(&group)
        .vpc_security_group_ids(sg_id)
        .tags(rds_tag("Name", "it's \"quoted\" ünï"))
        .tags(rds_tag("expires", "2020-01-01"))
        .send()
        .await
        .unwrap();
    s.secrets.push(password);
    s.add(
        "aws_rds_instance",
        pg.clone(),
        micros(made.db_instance().and_then(|d| d.instance_create_time())),
        map(&[("Name", "it's \"quoted\" ünï"), ("expires", "2020-01-01")]),
    );
    for kind in ["default", "delete"] {
        s.link(
            "aws_rds_subnet_group",
            &group,
            "aws_rds_instance",
            &pg,
            kind,
        );
        s.link("aws_ec2_vpc", vpc_id, "aws_rds_instance", &pg, kind);
    }
    s.link(
        "aws_ec2_security_group",
        sg_id,
        "aws_rds_instance",
        &pg,
        "default",
    );
    s.link("aws_region", region, "aws_rds_instance", &pg, "default");
    // A manual snapshot (the emulator also keeps an automated one).
    let snap_id = format!("{pg}-nightly");
    let snap = rds
        .create_db_snapshot()
        .db_instance_identifier(&pg)
        .db_snapshot_identifier(&snap_id)
        .tags(rds_tag("owner", "dba"))
        .send()
        .await
        .unwrap();
    s.add(
        "aws_rds_snapshot",
        snap_id.clone(),
        micros(snap.db_snapshot().and_then(|d| d.snapshot_create_time())),
        map(&[("owner", "dba")]),
    );
    s.link(
        "aws_rds_instance",
        &pg,
        "aws_rds_snapshot",
        &snap_id,
        "default",
    );
    s.link(
        "aws_region",
        region,
        "aws_rds_snapshot",
        &snap_id,
        "default",
    );
    if n == 0 {
        let password = "aurora-Secret-pw".to_string();
        let cluster = rds
            .create_db_cluster()
            .db_cluster_identifier("aurora-1")
            .engine("aurora-postgresql")
            .master_username("admin")
            .master_user_password(&password)
            .db_subnet_group_name(&group)
            .vpc_security_group_ids(sg_id)
            .tags(rds_tag("owner", "team-a"))
            .send()
            .await
            .unwrap();
        s.secrets.push(password);
        s.add(
            "aws_rds_cluster",
            "aurora-1",
            micros(cluster.db_cluster().and_then(|d| d.cluster_create_time())),
            map(&[("owner", "team-a")]),
        );
        let member = rds
            .create_db_instance()
            .db_instance_identifier("aurora-1-a")
            .db_cluster_identifier("aurora-1")
            .engine("aurora-postgresql")
            .db_instance_class("db.r5.large")
            .send()
            .await
            .unwrap();
        s.add(
            "aws_rds_instance",
            "aurora-1-a",
            micros(member.db_instance().and_then(|d| d.instance_create_time())),
            BTreeMap::new(),
        );
        for kind in ["default", "delete"] {
            s.link(
                "aws_rds_cluster",
                "aurora-1",
                "aws_rds_instance",
                "aurora-1-a",
                kind,
            );
            s.link(
                "aws_rds_subnet_group",
                &group,
                "aws_rds_cluster",
                "aurora-1",
                kind,
            );
        }
        s.link(
            "aws_ec2_security_group",
            sg_id,
            "aws_rds_cluster",
            "aurora-1",
            "default",
        );
        let snap = rds
            .create_db_cluster_snapshot()
            .db_cluster_identifier("aurora-1")
            .db_cluster_snapshot_identifier("aurora-1-before-upgrade")
            .tags(rds_tag("reason", "upgrade \"15\""))
            .send()
            .await
            .unwrap();
        s.add(
            "aws_rds_cluster_snapshot",
            "aurora-1-before-upgrade",
            micros(
                snap.db_cluster_snapshot()
                    .and_then(|d| d.snapshot_create_time()),
            ),
            map(&[("reason", "upgrade \"15\"")]),
        );
        s.link(
            "aws_rds_cluster",
            "aurora-1",
            "aws_rds_cluster_snapshot",
            "aurora-1-before-upgrade",
            "default",
        );
        return;
    }
    let eks = aws_sdk_eks::Client::new(conf);
    let role = "arn:aws:iam::123456789012:role/app";
    let cluster = eks
        .create_cluster()
        .name("prod")
        .role_arn(role)
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids(subnet_id)
                .subnet_ids(&other)
                .security_group_ids(sg_id)
                .build(),
        )
        .tags("owner", "platform")
        .tags("team", "ünï \"k8s\"")
        .send()
        .await
        .unwrap();
    s.add(
        "aws_eks_cluster",
        "prod",
        micros(cluster.cluster().and_then(|c| c.created_at())),
        map(&[("owner", "platform"), ("team", "ünï \"k8s\"")]),
    );
    let group = eks
        .create_nodegroup()
        .cluster_name("prod")
        .nodegroup_name("workers")
        .node_role(role)
        .subnets(subnet_id)
        .instance_types("t3.large")
        .scaling_config(
            aws_sdk_eks::types::NodegroupScalingConfig::builder()
                .min_size(1)
                .max_size(3)
                .desired_size(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s.add(
        "aws_eks_nodegroup",
        "prod/workers",
        micros(group.nodegroup().and_then(|g| g.created_at())),
        BTreeMap::new(),
    );
    for kind in ["default", "delete"] {
        s.link(
            "aws_eks_cluster",
            "prod",
            "aws_eks_nodegroup",
            "prod/workers",
            kind,
        );
        s.link("aws_ec2_subnet", subnet_id, "aws_eks_cluster", "prod", kind);
        s.link(
            "aws_ec2_subnet",
            subnet_id,
            "aws_eks_nodegroup",
            "prod/workers",
            kind,
        );
    }
    s.link("aws_region", region, "aws_eks_cluster", "prod", "default");
    s.link(
        "aws_ec2_security_group",
        sg_id,
        "aws_eks_cluster",
        "prod",
        "default",
    );
    s.link("aws_eks_cluster", "prod", "aws_iam_role", "app", "default");
    s.link(
        "aws_eks_nodegroup",
        "prod/workers",
        "aws_iam_role",
        "app",
        "default",
    );
}

/// A launch template, a gateway endpoint for S3 on the VPC's main route
/// table, and a peering connection to a second VPC.
async fn seed_ec2_more(
    conf: &aws_types::SdkConfig,
    region: &str,
    n: usize,
    vpc_id: &str,
    s: &mut Seeded,
) {
    let ec2 = aws_sdk_ec2::Client::new(conf);
    let tags = [("owner", "build"), ("note", "ünï \"lt\"")];
    let lt = ec2
        .create_launch_template()
        .launch_template_name(format!("web-{n}"))
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                .build(),
        )
        .tag_specifications(spec(ResourceType::LaunchTemplate, &tags))
        .send()
        .await
        .unwrap();
    let lt = lt.launch_template().unwrap();
    let lt_id = lt.launch_template_id().unwrap();
    s.add(
        "aws_ec2_launch_template",
        lt_id,
        micros(lt.create_time()),
        map(&tags),
    );
    s.link(
        "aws_region",
        region,
        "aws_ec2_launch_template",
        lt_id,
        "default",
    );
    let main_table = ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .route_tables()[0]
        .route_table_id()
        .unwrap()
        .to_string();
    let ep = ec2
        .create_vpc_endpoint()
        .vpc_id(vpc_id)
        .service_name(format!("com.amazonaws.{region}.s3"))
        .route_table_ids(&main_table)
        .tag_specifications(spec(ResourceType::VpcEndpoint, &[("Name", "s3")]))
        .send()
        .await
        .unwrap();
    let ep = ep.vpc_endpoint().unwrap();
    let ep_id = ep.vpc_endpoint_id().unwrap();
    s.add(
        "aws_ec2_vpc_endpoint",
        ep_id,
        micros(ep.creation_timestamp()),
        map(&[("Name", "s3")]),
    );
    for kind in ["default", "delete"] {
        s.link("aws_ec2_vpc", vpc_id, "aws_ec2_vpc_endpoint", ep_id, kind);
    }
    s.link(
        "aws_ec2_route_table",
        &main_table,
        "aws_ec2_vpc_endpoint",
        ep_id,
        "default",
    );
    let peer = ec2
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap();
    let peer = peer.vpc().unwrap().vpc_id().unwrap().to_string();
    let pcx = ec2
        .create_vpc_peering_connection()
        .vpc_id(vpc_id)
        .peer_vpc_id(&peer)
        .tag_specifications(spec(
            ResourceType::VpcPeeringConnection,
            &[("owner", "net")],
        ))
        .send()
        .await
        .unwrap();
    let pcx_id = pcx
        .vpc_peering_connection()
        .unwrap()
        .vpc_peering_connection_id()
        .unwrap();
    s.add(
        "aws_ec2_vpc_peering_connection",
        pcx_id,
        None,
        map(&[("owner", "net")]),
    );
    for v in [vpc_id, peer.as_str()] {
        for kind in ["default", "delete"] {
            s.link(
                "aws_ec2_vpc",
                v,
                "aws_ec2_vpc_peering_connection",
                pcx_id,
                kind,
            );
        }
    }
}

/// Runs `cloudtab sync --source aws` against `endpoint` into `data`.
fn aws_sync(
    dir: &std::path::Path,
    data: &std::path::Path,
    endpoint: &str,
) -> (i32, String, String) {
    aws_sync_with(
        dir,
        &format!(
            "sources:\n  - type: aws\n    regions: [us-east-1, eu-west-1]\n    endpoint_url: '{endpoint}'\n    max_attempts: 10\nsinks:\n  - type: parquet\n    url: '{}'\n",
            data.display()
        ),
    )
}

/// Runs a sync with `config` (YAML) and the emulator's fake credentials.
fn aws_sync_with(dir: &std::path::Path, config: &str) -> (i32, String, String) {
    let path = dir.join("aws.yaml");
    std::fs::write(&path, config).unwrap();
    outcome(
        &cloudtab()
            .args([
                "sync",
                "--progress",
                "never",
                "--config",
                path.to_str().unwrap(),
            ])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", dir.join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
            .env("CLOUDTAB_LOG", "error")
            .output()
            .unwrap(),
    )
}

#[test]
fn sync_reads_every_seeded_resource_exactly() {
    let moto = Moto::start(&python());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seeded = rt.block_on(seed(&moto.url()));
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let (code, out, err) = aws_sync(dir.path(), &data, &moto.url());
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    check_seeded(&data, &seeded);
    // A scope for the account, IAM, S3 and EC2 + SQS in each region.
    let scopes = grouped(
        &data,
        "SELECT service || '/' || region || '/' || status AS k, count(*) AS n FROM _scopes GROUP BY 1",
    );
    let mut want = BTreeMap::new();
    for k in ["account/global/ok", "iam/global/ok", "s3/global/ok"] {
        want.insert(k.to_string(), 1);
    }
    for r in REGIONS {
        for s in ["ec2", "sqs", "lambda", "dynamodb", "elbv2", "rds", "eks"] {
            want.insert(format!("{s}/{r}/ok"), 1);
        }
    }
    assert_eq!(scopes, want);
    // The account, and account → region for both regions.
    let account = query(&data, "SELECT id, partition, arn FROM aws_account");
    assert_eq!(account.len(), 1, "{account:?}");
    assert_eq!(account[0]["id"], "123456789012");
    assert_eq!(account[0]["partition"], "aws");
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM _edges e JOIN aws_account a ON a._id = e.from_id \
             JOIN aws_region r ON r._id = e.to_id WHERE e.edge_type = 'default'"
        ),
        2
    );
    assert!(
        count(
            &data,
            "SELECT min(api_calls) AS n FROM _scopes WHERE service <> 'account'"
        ) > 0
    );
    // Instance types in use, with vCPUs and memory.
    let t = query(
        &data,
        "SELECT vcpus, memory_bytes FROM aws_ec2_instance_type WHERE id = 't3.micro' AND region = 'us-east-1'",
    );
    assert_eq!(t[0]["vcpus"], 2, "{t:?}");
    assert_eq!(t[0]["memory_bytes"], 1024u64 << 20, "{t:?}");
    // The access key's secret and the database passwords are nowhere in
    // the output.
    assert_eq!(seeded.secrets.len(), 4);
    for t in cloudtab_extract::aws::tables() {
        let rows = query(&data, &format!("SELECT * FROM {t}"));
        let text = serde_json::to_string(&rows).unwrap();
        for secret in &seeded.secrets {
            assert!(!text.contains(secret.as_str()), "{t} holds a secret");
        }
    }
    for secret in &seeded.secrets {
        assert!(!out.contains(secret.as_str()) && !err.contains(secret.as_str()));
    }
    // Detail calls one at a time read exactly what 16 at once (the
    // default) read.
    let serial = dir.path().join("serial");
    let (code, out, err) = aws_sync_with(
        dir.path(),
        &format!(
            "sources:\n  - type: aws\n    regions: [us-east-1, eu-west-1]\n    endpoint_url: '{}'\n    detail_concurrency: 1\nsinks:\n  - type: parquet\n    url: '{}'\n",
            moto.url(),
            serial.display()
        ),
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    for t in cloudtab_extract::aws::tables() {
        let ids = |d: &std::path::Path| query(d, &format!("SELECT _id FROM {t} ORDER BY _id"));
        assert_eq!(ids(&data), ids(&serial), "{t}");
    }
}

#[test]
fn throttling_and_server_errors_lose_nothing_and_a_denied_scope_fails_alone() {
    let moto = Moto::start(&python());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let seeded = rt.block_on(seed(&moto.url()));
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");

    // Every 4th request throttled or answered with a 500; and the target
    // group's instance reported on two more ports, as ECS dynamic port
    // mapping registers it (issue #12).
    let proxy = FaultProxy::start(
        moto.port(),
        Faults {
            every: 4,
            extra_ports: vec![32768, 32769],
            ..Faults::default()
        },
    );
    let (code, out, err) = aws_sync(dir.path(), &data, &proxy.url());
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(proxy.injected.load(std::sync::atomic::Ordering::Relaxed) > 5);
    // One instance on three ports: three targets, one edge (check_seeded
    // counts it, and finds no edge twice).
    let targets = query(
        &data,
        "SELECT targets FROM aws_elbv2_target_group WHERE name = 'web'",
    );
    let targets: serde_json::Value =
        serde_json::from_str(targets[0]["targets"].as_str().unwrap()).unwrap();
    let mut ports: Vec<i64> = targets
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["Port"].as_i64())
        .collect();
    ports.sort();
    assert_eq!(ports, vec![80, 32768, 32769], "{targets}");
    check_seeded(&data, &seeded);
    assert!(count(&data, "SELECT sum(retries) AS n FROM _scopes") > 0);
    assert!(count(&data, "SELECT sum(throttles) AS n FROM _scopes") > 0);
    let first = query(&data, "SELECT id FROM _runs")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    drop(proxy);

    // SQS in eu-west-1 denied: that scope fails, the run is partial, its
    // queue is carried from the previous snapshot, the rest is fresh.
    let proxy = FaultProxy::start(
        moto.port(),
        Faults {
            deny: vec![("sqs".into(), "eu-west-1".into())],
            ..Faults::default()
        },
    );
    let (code, out, err) = aws_sync(dir.path(), &data, &proxy.url());
    assert_eq!(code, 3, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("sqs") && out.contains("denied"), "{out}");
    check_seeded(&data, &seeded);
    let rows = query(&data, "SELECT status, error, carried_rows FROM _scopes WHERE service = 'sqs' AND region = 'eu-west-1'");
    assert_eq!(rows[0]["status"], "denied", "{rows:?}");
    assert!(
        rows[0]["error"].as_str().unwrap().contains("AccessDenied"),
        "{rows:?}"
    );
    assert_eq!(rows[0]["carried_rows"], 1);
    assert_eq!(
        query(
            &data,
            "SELECT _run_id FROM aws_sqs_queue WHERE id = 'jobs-1'"
        )[0]["_run_id"],
        first.as_str()
    );
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM _scopes WHERE status <> 'ok'"
        ),
        1
    );
}

/// A region not opted in, an operation the endpoint does not know and a
/// plain denial each fail their own scope, with the status that says why;
/// the other scopes are read and the run is partial.
#[test]
fn opt_in_unknown_operations_and_denials_fail_only_their_scope() {
    let moto = Moto::start(&python());
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let proxy = FaultProxy::start(
        moto.port(),
        Faults {
            deny: vec![("lambda".into(), "us-east-1".into())],
            refuse: vec![
                ("ec2".into(), "eu-west-1".into(), "OptInRequired"),
                (
                    "eks".into(),
                    "us-east-1".into(),
                    "UnknownOperationException",
                ),
                (
                    "dynamodb".into(),
                    "eu-west-1".into(),
                    "UnrecognizedClientException",
                ),
            ],
            ..Faults::default()
        },
    );
    let (code, out, err) = aws_sync(dir.path(), &data, &proxy.url());
    assert_eq!(code, 3, "stdout:\n{out}\nstderr:\n{err}");
    let failed = grouped(
        &data,
        "SELECT service || '/' || region || '/' || status AS k, count(*) AS n FROM _scopes WHERE status <> 'ok' GROUP BY 1",
    );
    let want: BTreeMap<String, u64> = [
        "ec2/eu-west-1/denied",
        "eks/us-east-1/unsupported",
        "dynamodb/eu-west-1/denied",
        "lambda/us-east-1/denied",
    ]
    .into_iter()
    .map(|k| (k.to_string(), 1))
    .collect();
    assert_eq!(failed, want);
    // Each error names the operation and the API's code, in `_scopes` and
    // in the summary.
    let errors = query(
        &data,
        "SELECT service, error FROM _scopes WHERE status <> 'ok' ORDER BY service",
    );
    for (row, (service, op, code)) in errors.iter().zip([
        (
            "dynamodb",
            "dynamodb:ListTables",
            "UnrecognizedClientException",
        ),
        ("ec2", "ec2:", "OptInRequired"),
        ("eks", "eks:ListClusters", "UnknownOperationException"),
        ("lambda", "lambda:ListFunctions", "AccessDeniedException"),
    ]) {
        assert_eq!(row["service"], service);
        let e = row["error"].as_str().unwrap();
        assert!(e.contains(op) && e.contains(code), "{service}: {e}");
        assert!(out.contains(code), "summary lacks {code}:\n{out}");
    }
    // Everything else was read: 17 scopes in all, 13 of them ok.
    assert_eq!(count(&data, "SELECT count(*) AS n FROM _scopes"), 17);
    assert_eq!(
        count(
            &data,
            "SELECT count(*) AS n FROM _scopes WHERE status = 'ok'"
        ),
        13
    );
}

/// Every seeded resource is there once, with the API's tags and creation
/// time (to the microsecond), every seeded edge once, and no JSON `null`
/// stored as text.
fn check_seeded(data: &std::path::Path, seeded: &Seeded) {
    // Every seeded resource, once, with its tags and creation time.
    for ((table, id), (ctime, tags)) in &seeded.resources {
        let rows = query(
            data,
            &format!(
                "SELECT tags, CAST(CAST(ctime AS BIGINT) AS VARCHAR) AS ctime FROM {table} WHERE id = '{}'",
                id.replace('\'', "''")
            ),
        );
        assert_eq!(rows.len(), 1, "{table} {id}: {rows:?}");
        let got: BTreeMap<String, String> =
            serde_json::from_str(rows[0]["tags"].as_str().unwrap()).unwrap();
        assert_eq!(&got, tags, "{table} {id} tags");
        if let Some(want) = ctime {
            assert_eq!(
                rows[0]["ctime"].as_str(),
                Some(want.to_string().as_str()),
                "{table} {id} ctime (µs, UTC)"
            );
        }
    }
    for (ft, fid, tt, tid, kind) in &seeded.edges {
        let n = count(
            data,
            &format!(
                "SELECT count(*) AS n FROM _edges e JOIN {ft} f ON f._id = e.from_id JOIN {tt} t ON t._id = e.to_id \
                 WHERE f.id = '{fid}' AND t.id = '{tid}' AND e.edge_type = '{kind}'"
            ),
        );
        assert_eq!(n, 1, "edge {ft} {fid} -{kind}-> {tt} {tid}");
    }
    // Issue #12: no edge is there twice, and none was even sent twice.
    assert_eq!(
        count(
            data,
            "SELECT count(*) AS n FROM (SELECT from_id, to_id, edge_type FROM _edges GROUP BY 1, 2, 3 HAVING count(*) > 1)"
        ),
        0,
        "duplicate edges"
    );
    // Issue #13: the seeded inventory provokes no issue at all (no edge
    // sent twice, no misspelt column, no value its column cannot hold).
    let issues = query(data, "SELECT table_name, column_name, reason FROM _issues");
    assert!(issues.is_empty(), "{issues:?}");
    // No JSON `null` stored as text anywhere.
    for t in cloudtab_extract::aws::tables() {
        let rows = query(data, &format!("SELECT * FROM {t}"));
        for r in rows {
            for (k, v) in r {
                assert_ne!(v.as_str(), Some("null"), "{t}.{k}");
            }
        }
    }
}

#[test]
fn accounts_from_a_profile_and_an_assumed_role() {
    let moto = Moto::start(&python());
    let dir = TempDir::new().unwrap();
    // A profile with static keys, and a role in another account assumed
    // from it with an external id.
    std::fs::write(
        dir.path().join("credentials"),
        "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("config"),
        "[profile base]\nregion = us-east-1\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("aws.yaml");
    std::fs::write(
        &config,
        format!(
            "sources:\n  - type: aws\n    accounts:\n      - profile: base\n      - profile: base\n        role_arn: arn:aws:iam::111111111111:role/cloudtab-reader\n        external_id: inventory\n    regions: [us-east-1]\n    services: [sqs]\n    endpoint_url: '{}'\nsinks:\n  - type: parquet\n    url: '{}'\n",
            moto.url(),
            data.display()
        ),
    )
    .unwrap();
    let (code, out, err) = outcome(
        &cloudtab()
            .args([
                "sync",
                "--progress",
                "never",
                "--config",
                config.to_str().unwrap(),
            ])
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("credentials"),
            )
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(!out.contains("base-secret") && !err.contains("base-secret"));
    let accounts = grouped(
        &data,
        "SELECT account_id AS k, count(*) AS n FROM _scopes GROUP BY account_id",
    );
    assert_eq!(
        accounts.keys().cloned().collect::<Vec<_>>(),
        vec!["111111111111".to_string(), "123456789012".to_string()],
        "one account from the profile, one from the assumed role"
    );
    assert_eq!(count(&data, "SELECT count(*) AS n FROM aws_account"), 2);
}

/// A loopback peer that accepts every connection and never answers.
fn silent_peer() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        // Bounded: enough connections for every attempt of the tests below.
        for conn in listener.incoming().take(64) {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    (port, handle)
}

#[test]
fn a_peer_that_never_answers_fails_its_scope_by_timeout_not_the_run() {
    // Issue #12: every request has a timeout and every scope a deadline.
    let moto = Moto::start(&python());
    let (silent, _peer) = silent_peer();
    let dir = TempDir::new().unwrap();
    for (timeouts, reason) in [
        // A request timeout: each attempt gives up after 1 s.
        ("request_timeout_secs: 1\n    max_attempts: 2\n", "timeout"),
        // A scope deadline shorter than the requests' own timeout.
        (
            "request_timeout_secs: 60\n    scope_timeout_secs: 2\n",
            "deadline of 2 s",
        ),
    ] {
        let data = dir.path().join(format!("data-{}", reason.len()));
        let started = std::time::Instant::now();
        let (code, out, err) = aws_sync_with(
            dir.path(),
            &format!(
                "sources:\n  - type: aws\n    regions: [us-east-1]\n    services: [sqs, dynamodb]\n    endpoint_url: '{}'\n    endpoints: {{sqs: 'http://127.0.0.1:{silent}'}}\n    {timeouts}sinks:\n  - type: parquet\n    url: '{}'\n",
                moto.url(),
                data.display()
            ),
        );
        assert_eq!(code, 3, "{timeouts}\nstdout:\n{out}\nstderr:\n{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        let rows = query(
            &data,
            "SELECT service, status, error FROM _scopes ORDER BY service",
        );
        let sqs = rows.iter().find(|r| r["service"] == "sqs").unwrap();
        assert_eq!(sqs["status"], "failed", "{rows:?}");
        assert!(
            sqs["error"].as_str().unwrap().contains(reason),
            "{reason}: {rows:?}"
        );
        // The other service of the same account and region was read.
        let ddb = rows.iter().find(|r| r["service"] == "dynamodb").unwrap();
        assert_eq!(ddb["status"], "ok", "{rows:?}");
    }
}

/// `(item[k], item[v])` of every item of a JSON list of objects (key
/// schemas, tags), as the signed client returns them.
fn pairs(list: &serde_json::Value, k: &str, v: &str) -> Vec<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| {
            (
                item[k].as_str().unwrap().to_string(),
                item[v].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Issue #18: the signed generic client (`aws::signed`, the alternative to
/// an SDK crate for rarely used services) against the SDK on one service,
/// DynamoDB: the same tables, pages, fields and tags through injected
/// throttling and 5xx; retries bounded by `max_attempts`; errors that the
/// SDK does not retry returned at once with their code. (The emulator does
/// not check signatures; both sides sign with the same `aws-sigv4`.)
#[test]
fn a_signed_client_reads_what_the_sdk_reads() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
        ScalarAttributeType,
    };
    use cloudtab_extract::aws::signed::{SignedClient, DYNAMODB};
    use serde_json::json;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    let moto = Moto::start(&python());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let conf = moto::sdk_config(&moto.url(), "us-east-1").await;
        let ddb = aws_sdk_dynamodb::Client::new(&conf);
        let client = |endpoint: &str, attempts: u32, timeout_secs: u64| {
            SignedClient::new(
                &conf,
                DYNAMODB,
                "us-east-1",
                Some(endpoint),
                attempts,
                Duration::from_secs(timeout_secs),
            )
            .unwrap()
        };
        for i in 0..12 {
            let key = |name: &str, kind| {
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .unwrap()
            };
            let attr = |name: &str| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap()
            };
            let mut t = ddb
                .create_table()
                .table_name(format!("t{i:02}"))
                .key_schema(key("pk", KeyType::Hash))
                .attribute_definitions(attr("pk"));
            t = if i % 2 == 0 {
                t.billing_mode(BillingMode::PayPerRequest)
            } else {
                t.key_schema(key("sk", KeyType::Range))
                    .attribute_definitions(attr("sk"))
                    .provisioned_throughput(
                        ProvisionedThroughput::builder()
                            .read_capacity_units(i)
                            .write_capacity_units(1)
                            .build()
                            .unwrap(),
                    )
            };
            if i % 3 == 0 {
                t = t.tags(
                    aws_sdk_dynamodb::types::Tag::builder()
                        .key("owner")
                        .value(format!("team-{i}"))
                        .build()
                        .unwrap(),
                );
            }
            t.send().await.unwrap();
        }
        let mut sdk_names = Vec::new();
        let mut pages = ddb.list_tables().limit(5).into_paginator().send();
        while let Some(page) = pages.next().await {
            sdk_names.extend(page.unwrap().table_names().iter().cloned());
        }
        assert_eq!(sdk_names.len(), 12);

        // Every third request throttled or answered with a 500.
        let proxy = FaultProxy::start(
            moto.port(),
            Faults {
                every: 3,
                ..Faults::default()
            },
        );
        let signed = client(&proxy.url(), 10, 30);
        let mut names = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut input = json!({ "Limit": 5 });
            if let Some(s) = &start {
                input["ExclusiveStartTableName"] = json!(s);
            }
            let page = signed.call("ListTables", &input).await.unwrap();
            names.extend(
                page["TableNames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string()),
            );
            match page["LastEvaluatedTableName"].as_str() {
                Some(s) => start = Some(s.to_string()),
                None => break,
            }
        }
        assert_eq!(names, sdk_names);
        for name in &names {
            let ours = signed
                .call("DescribeTable", &json!({ "TableName": name }))
                .await
                .unwrap();
            let t = &ours["Table"];
            let theirs = ddb.describe_table().table_name(name).send().await.unwrap();
            let s = theirs.table().unwrap();
            assert_eq!(t["TableArn"].as_str(), s.table_arn(), "{name}");
            assert_eq!(t["TableId"].as_str(), s.table_id(), "{name}");
            assert_eq!(
                t["TableStatus"].as_str(),
                s.table_status().map(|x| x.as_str())
            );
            assert_eq!(t["ItemCount"].as_i64(), s.item_count());
            let keys: Vec<(String, String)> = s
                .key_schema()
                .iter()
                .map(|k| (k.attribute_name().into(), k.key_type().as_str().into()))
                .collect();
            let our_keys = pairs(&t["KeySchema"], "AttributeName", "KeyType");
            assert_eq!(our_keys, keys, "{name}");
            assert_eq!(
                t["ProvisionedThroughput"]["ReadCapacityUnits"].as_i64(),
                s.provisioned_throughput()
                    .and_then(|p| p.read_capacity_units())
            );
            assert_eq!(
                t["BillingModeSummary"]["BillingMode"].as_str(),
                s.billing_mode_summary()
                    .and_then(|b| b.billing_mode())
                    .map(|b| b.as_str())
            );
            // The same decimal: the JSON number, to the nearest µs.
            let created = t["CreationDateTime"].as_f64().unwrap();
            assert_eq!(
                Some((created * 1e6).round() as i64),
                micros(s.creation_date_time()),
                "{name}"
            );
            let arn = s.table_arn().unwrap();
            let our_tags = signed
                .call("ListTagsOfResource", &json!({ "ResourceArn": arn }))
                .await
                .unwrap();
            let tags: BTreeMap<String, String> = ddb
                .list_tags_of_resource()
                .resource_arn(arn)
                .send()
                .await
                .unwrap()
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            let ours: BTreeMap<String, String> = pairs(&our_tags["Tags"], "Key", "Value")
                .into_iter()
                .collect();
            assert_eq!(ours, tags, "{name}");
        }
        assert!(proxy.injected.load(Ordering::Relaxed) >= 10);

        // Not retried: a missing table is one request and its code.
        let before = proxy.injected.load(Ordering::Relaxed);
        let err = signed
            .call("DescribeTable", &json!({ "TableName": "missing" }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ResourceNotFoundException"), "{err}");
        assert!(err.to_string().contains("dynamodb:DescribeTable"), "{err}");
        assert!(proxy.injected.load(Ordering::Relaxed) - before <= 1);
        drop(proxy);

        // Throttled every time: exactly `max_attempts` requests, then the
        // throttling error.
        let proxy = FaultProxy::start(
            moto.port(),
            Faults {
                every: 1,
                ..Faults::default()
            },
        );
        let signed = client(&proxy.url(), 3, 30);
        let err = signed.call("ListTables", &json!({})).await.unwrap_err();
        assert_eq!(proxy.injected.load(Ordering::Relaxed), 3, "{err}");
        assert!(
            matches!(err.code(), Some("ThrottlingException") | Some("HTTP500")),
            "{err}"
        );
        drop(proxy);

        // Denied: not retried, the code and the operation named.
        let proxy = FaultProxy::start(
            moto.port(),
            Faults {
                deny: vec![("dynamodb".into(), "us-east-1".into())],
                ..Faults::default()
            },
        );
        let signed = client(&proxy.url(), 3, 30);
        let err = signed.call("ListTables", &json!({})).await.unwrap_err();
        assert_eq!(err.code(), Some("AccessDeniedException"), "{err}");
        assert!(err.to_string().contains("dynamodb:ListTables"), "{err}");

        // A peer that never answers: the attempt timeout, per attempt.
        let (silent, _peer) = silent_peer();
        let signed = client(&format!("http://127.0.0.1:{silent}"), 1, 2);
        let err = signed.call("ListTables", &json!({})).await.unwrap_err();
        assert!(err.to_string().contains("no answer within 2 s"), "{err}");
    });
}
