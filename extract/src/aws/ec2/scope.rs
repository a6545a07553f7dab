//! The EC2 scope of one region: every kind's list call, at the largest
//! page size, in an order where the kinds that note what they use
//! (instances: their volumes and instance types) come before the kinds
//! that need it. Edges to kinds read later are references; they need no
//! order.

use super::*;
use crate::aws::clients::api_failure;
use crate::aws::{Failure, Writer};

/// Reads every EC2 kind of the scope's region.
pub(crate) async fn extract(c: &aws_sdk_ec2::Client, w: &mut Writer<'_>) -> Result<(), Failure> {
    kind!(
        w,
        "ec2:DescribeVpcs",
        c.describe_vpcs().into_paginator().page_size(1000).send(),
        vpcs,
        vpc::row
    );
    kind!(
        w,
        "ec2:DescribeSubnets",
        c.describe_subnets().into_paginator().page_size(1000).send(),
        subnets,
        subnet::row
    );
    kind!(
        w,
        "ec2:DescribeSecurityGroups",
        c.describe_security_groups()
            .into_paginator()
            .page_size(1000)
            .send(),
        security_groups,
        security_group::row
    );
    let mut used = instance::InUse::default();
    pages!(
        "ec2:DescribeInstances",
        c.describe_instances()
            .into_paginator()
            .page_size(1000)
            .send(),
        |page| {
            for reservation in page.reservations() {
                let instances = reservation.instances();
                w.rows(instances, |w, i| instance::row(w, i, &mut used))
                    .await?;
            }
        }
    );
    let attached = &mut used.volumes;
    kind!(
        w,
        "ec2:DescribeVolumes",
        c.describe_volumes().into_paginator().page_size(1000).send(),
        volumes,
        |w, v| volume::row(w, v, attached)
    );
    kind!(
        w,
        "ec2:DescribeSnapshots",
        c.describe_snapshots()
            .owner_ids("self")
            .into_paginator()
            .page_size(1000)
            .send(),
        snapshots,
        snapshot::row
    );
    instance_type::read(c, w, &used.types).await?;
    kind!(
        w,
        "ec2:DescribeNetworkInterfaces",
        c.describe_network_interfaces()
            .into_paginator()
            .page_size(1000)
            .send(),
        network_interfaces,
        network_interface::row
    );
    // DescribeAddresses and DescribeKeyPairs are not paginated.
    let addresses = c.describe_addresses().send().await;
    let addresses = addresses.map_err(|e| api_failure("ec2:DescribeAddresses", &e))?;
    w.rows(addresses.addresses(), elastic_ip::row).await?;
    let keys = c.describe_key_pairs().send().await;
    let keys = keys.map_err(|e| api_failure("ec2:DescribeKeyPairs", &e))?;
    w.rows(keys.key_pairs(), key_pair::row).await?;
    kind!(
        w,
        "ec2:DescribeInternetGateways",
        c.describe_internet_gateways()
            .into_paginator()
            .page_size(1000)
            .send(),
        internet_gateways,
        internet_gateway::row
    );
    kind!(
        w,
        "ec2:DescribeNatGateways",
        c.describe_nat_gateways()
            .into_paginator()
            .page_size(1000)
            .send(),
        nat_gateways,
        nat_gateway::row
    );
    kind!(
        w,
        "ec2:DescribeRouteTables",
        c.describe_route_tables()
            .into_paginator()
            .page_size(100)
            .send(),
        route_tables,
        route_table::row
    );
    kind!(
        w,
        "ec2:DescribeNetworkAcls",
        c.describe_network_acls()
            .into_paginator()
            .page_size(100)
            .send(),
        network_acls,
        network_acl::row
    );
    kind!(
        w,
        "ec2:DescribeImages",
        c.describe_images()
            .owners("self")
            .into_paginator()
            .page_size(1000)
            .send(),
        images,
        image::row
    );
    kind!(
        w,
        "ec2:DescribeLaunchTemplates",
        c.describe_launch_templates()
            .into_paginator()
            .page_size(200)
            .send(),
        launch_templates,
        launch_template::row
    );
    kind!(
        w,
        "ec2:DescribeVpcEndpoints",
        c.describe_vpc_endpoints()
            .into_paginator()
            .page_size(1000)
            .send(),
        vpc_endpoints,
        vpc_endpoint::row
    );
    kind!(
        w,
        "ec2:DescribeVpcPeeringConnections",
        c.describe_vpc_peering_connections()
            .into_paginator()
            .page_size(1000)
            .send(),
        vpc_peering_connections,
        vpc_peering_connection::row
    );
    Ok(())
}
