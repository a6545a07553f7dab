"""Seeds the AWS API emulator for scripts/bench-aws.sh: in each of two
regions N instances (one RunInstances call), N volumes, N/2 snapshots,
N queues, N/5 RDS instances, N/10 launch templates, Lambda functions and
DynamoDB tables, N/25 EKS clusters with two node groups each; N/5 buckets,
users and roles. Usage: bench_aws_seed.py URL N"""

import io
import zipfile

import sys

import boto3


def empty_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.py", "def h(e, c):\n    return 1\n")
    return buf.getvalue()


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2])
    kw = dict(endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing")
    s3 = boto3.client("s3", region_name="us-east-1", **kw)
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    for i in range(max(1, n // 5)):
        s3.create_bucket(Bucket=f"bench-{i}")
        iam.create_user(UserName=f"user-{i}")
        iam.create_role(RoleName=f"role-{i}", AssumeRolePolicyDocument="{}")
    for region in ["us-east-1", "eu-west-1"]:
        ec2 = boto3.client("ec2", region_name=region, **kw)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ec2.run_instances(ImageId=image, MinCount=n, MaxCount=n, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "owner", "Value": "bench"}]}])
        for i in range(n):
            v = ec2.create_volume(AvailabilityZone=f"{region}a", Size=10)
            if i % 2 == 0:
                ec2.create_snapshot(VolumeId=v["VolumeId"])
        sqs = boto3.client("sqs", region_name=region, **kw)
        for i in range(n):
            sqs.create_queue(QueueName=f"q-{i}", tags={"owner": "bench"})
        rds = boto3.client("rds", region_name=region, **kw)
        for i in range(max(1, n // 5)):
            rds.create_db_instance(DBInstanceIdentifier=f"db-{i}", Engine="postgres",
                                   DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                                   MasterUsername="admin", MasterUserPassword="bench-password",
                                   Tags=[{"Key": "owner", "Value": "bench"}])
        lam = boto3.client("lambda", region_name=region, **kw)
        ddb = boto3.client("dynamodb", region_name=region, **kw)
        for i in range(max(1, n // 10)):
            ec2.create_launch_template(LaunchTemplateName=f"lt-{i}",
                                       LaunchTemplateData={"InstanceType": "t3.micro"})
            lam.create_function(FunctionName=f"fn-{i}", Runtime="python3.12", Handler="a.h",
                                Role="arn:aws:iam::123456789012:role/role-0",
                                Code={"ZipFile": empty_zip()}, Tags={"owner": "bench"})
            ddb.create_table(TableName=f"t-{i}", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        eks = boto3.client("eks", region_name=region, **kw)
        for i in range(max(1, n // 25)):
            eks.create_cluster(name=f"k-{i}", roleArn="arn:aws:iam::123456789012:role/role-0",
                               resourcesVpcConfig={"subnetIds": []})
            for g in range(2):
                eks.create_nodegroup(clusterName=f"k-{i}", nodegroupName=f"ng-{g}",
                                     nodeRole="arn:aws:iam::123456789012:role/role-0",
                                     subnets=["subnet-1"])


if __name__ == "__main__":
    main()
