-- EBS volumes attached to nothing (state `available`): paid for, unused.
select
    _id, account_id, region, zone, id, name, volume_type, size_bytes,
    ctime, tags
from {{ source('cloudtab', 'aws_ec2_volume') }}
where state = 'available'
