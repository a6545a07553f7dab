-- Buckets that may be public: no public access block, or one with any of
-- its four settings off.
select
    _id, account_id, region, name, public_access_block is null as block_missing,
    public_access_block
from {{ source('cloudtab', 'aws_s3_bucket') }}
where public_access_block is null
   or not coalesce({{ json_bool('public_access_block', 'BlockPublicAcls') }}, false)
   or not coalesce({{ json_bool('public_access_block', 'IgnorePublicAcls') }}, false)
   or not coalesce({{ json_bool('public_access_block', 'BlockPublicPolicy') }}, false)
   or not coalesce({{ json_bool('public_access_block', 'RestrictPublicBuckets') }}, false)
