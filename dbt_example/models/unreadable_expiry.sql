-- Resources with an `expires` tag that is not a calendar date
-- (`YYYY-MM-DD`), with the raw value, so someone can fix the tag.
with dated as (
    select
        kind, _id, account_id, region, id, name,
        {{ json_text('tags', 'expires') }} as expires_raw
    from {{ ref('resources') }}
)
select kind, _id, account_id, region, id, name, expires_raw
from dated
where expires_raw is not null and {{ try_date('expires_raw') }} is null
