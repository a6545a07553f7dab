-- How old things are: resources per kind, account, region and age bucket
-- (from `ctime`; `unknown` where the API gives no creation time).
with aged as (
    select
        kind, account_id, region,
        case
            when ctime is null then 'unknown'
            when ctime > current_timestamp - interval '30 days' then '0-30 days'
            when ctime > current_timestamp - interval '90 days' then '30-90 days'
            when ctime > current_timestamp - interval '365 days' then '90-365 days'
            else 'over 1 year'
        end as age_bucket
    from {{ ref('resources') }}
)
select kind, account_id, region, age_bucket, count(*) as resources
from aged
group by kind, account_id, region, age_bucket
