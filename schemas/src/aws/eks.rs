//! EKS clusters and their node groups.

use crate::column::{ColumnDef as C, ColumnType::*};
use crate::table::TableDef;

pub(crate) fn tables() -> Vec<TableDef> {
    vec![
        TableDef::resource(
            "aws_eks_cluster",
            "eks",
            "An EKS (Kubernetes) cluster. `id` is its name; `ctime` the creation time.",
            &["eks:ListClusters", "eks:DescribeCluster"],
            &[
                C::new("version", Text, "Kubernetes version."),
                C::new("platform_version", Text, "EKS platform version."),
                C::new("status", Text, "`ACTIVE`, `CREATING`, `FAILED`, ..."),
                C::new("endpoint", Text, "Kubernetes API endpoint."),
                C::new("role_arn", Text, "ARN of the cluster's IAM role."),
                C::new("vpc_id", Text, "VPC of the cluster."),
                C::new("subnet_ids", Json, "Subnets of the control plane's network interfaces."),
                C::new("security_group_ids", Json, "Security groups of the control plane."),
                C::new("cluster_security_group_id", Text, "Security group EKS created for the cluster."),
                C::new("endpoint_public_access", Boolean, "Whether the API endpoint is public."),
                C::new("endpoint_private_access", Boolean, "Whether the API endpoint is reachable from the VPC."),
                C::new("public_access_cidrs", Json, "CIDR blocks allowed to reach the public endpoint."),
                C::new("oidc_issuer", Text, "OIDC issuer URL (for IAM roles of service accounts)."),
                C::new("logging", Json, "Control plane log types and whether they are on."),
                C::new("encryption_config", Json, "KMS keys of the envelope encryption of Kubernetes secrets (`keyArn`)."),
            ],
        ),
        TableDef::resource(
            "aws_eks_nodegroup",
            "eks",
            "A managed node group of an EKS cluster. `id` is `<cluster>/<node group>` (node group names are unique per cluster); `ctime` the creation time, `mtime` the last change.",
            &["eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup"],
            &[
                C::new("cluster_name", Text, "Cluster it belongs to."),
                C::new("status", Text, "`ACTIVE`, `CREATING`, `DEGRADED`, ..."),
                C::new("version", Text, "Kubernetes version."),
                C::new("release_version", Text, "AMI release version."),
                C::new("capacity_type", Text, "`ON_DEMAND` or `SPOT`."),
                C::new("instance_types", Json, "Instance types."),
                C::new("ami_type", Text, "AMI type."),
                C::new("disk_size_bytes", Int64, "Root volume size in bytes (the API's GiB × 2^30)."),
                C::new("min_size", Int64, "Minimum number of nodes."),
                C::new("max_size", Int64, "Maximum number of nodes."),
                C::new("desired_size", Int64, "Desired number of nodes."),
                C::new("node_role", Text, "ARN of the nodes' IAM role."),
                C::new("subnets", Json, "Subnets the nodes run in."),
                C::new("labels", Json, "Kubernetes labels."),
                C::new("taints", Json, "Kubernetes taints."),
                C::new("auto_scaling_groups", Json, "Names of the Auto Scaling groups behind it."),
                C::new("health_issues", Json, "Health issues EKS reports."),
            ],
        ),
    ]
}
