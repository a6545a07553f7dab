-- Stopped instances and the volumes they keep (volumes are billed while
-- the instance is stopped): one row per instance and volume, over the
-- edges between them.
with stopped as (
    select _id, account_id, region, id, name, instance_type
    from {{ source('cloudtab', 'aws_ec2_instance') }}
    where state = 'stopped'
),
links as (
    select from_id as instance_id, to_id as volume_id
    from {{ source('cloudtab', '_edges') }}
    where from_kind = 'aws_ec2_instance' and to_kind = 'aws_ec2_volume'
    union
    select to_id, from_id
    from {{ source('cloudtab', '_edges') }}
    where to_kind = 'aws_ec2_instance' and from_kind = 'aws_ec2_volume'
)
select
    s._id as instance_uid, s.account_id, s.region, s.id as instance_id,
    s.name as instance_name, s.instance_type,
    v._id as volume_uid, v.id as volume_id, v.size_bytes, v.volume_type
from stopped s
join links l on l.instance_id = s._id
join {{ source('cloudtab', 'aws_ec2_volume') }} v on v._id = l.volume_id
