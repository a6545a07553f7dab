-- Resources whose `expires` tag is a date in the past (expired test
-- environments still running). Tags that are not dates: unreadable_expiry.
with dated as (
    select
        kind, _id, account_id, region, id, name,
        {{ json_text('tags', 'expires') }} as expires_raw,
        {{ try_date(json_text('tags', 'expires')) }} as expires_on
    from {{ ref('resources') }}
)
select
    kind, _id, account_id, region, id, name, expires_on,
    current_date - expires_on as days_expired
from dated
where expires_on < current_date
