-- EBS volumes without encryption at rest.
select _id, account_id, region, zone, id, name, volume_type, size_bytes, state
from {{ source('cloudtab', 'aws_ec2_volume') }}
where not coalesce(encrypted, false)
