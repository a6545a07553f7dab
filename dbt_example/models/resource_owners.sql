-- Who owns what: the `owner` tag trimmed and case-folded; missing and
-- empty owners flagged (both count as unowned).
with tagged as (
    select
        kind, _id, account_id, region, id, name,
        {{ json_text('tags', 'owner') }} as owner_raw
    from {{ ref('resources') }}
)
select
    kind, _id, account_id, region, id, name, owner_raw,
    nullif(lower(trim(owner_raw)), '') as owner,
    owner_raw is null as owner_missing,
    owner_raw is not null and trim(owner_raw) = '' as owner_empty,
    nullif(lower(trim(owner_raw)), '') is null as unowned
from tagged
