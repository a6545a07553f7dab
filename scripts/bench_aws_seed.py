"""Seeds the AWS API emulator for scripts/bench-aws.sh: in each of two
regions N instances (one RunInstances call), N volumes, N/2 snapshots,
N queues; N/5 buckets, users and roles. Usage: bench_aws_seed.py URL N"""

import sys

import boto3


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2])
    kw = dict(endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing")
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
    s3 = boto3.client("s3", region_name="us-east-1", **kw)
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    for i in range(max(1, n // 5)):
        s3.create_bucket(Bucket=f"bench-{i}")
        iam.create_user(UserName=f"user-{i}")
        iam.create_role(RoleName=f"role-{i}", AssumeRolePolicyDocument="{}")


if __name__ == "__main__":
    main()
