-- Every resource of the snapshot, one row each: the base columns every
-- resource table shares, plus its kind (table name).
{% for t in resource_tables() %}
select
    '{{ t }}' as kind,
    _id, _run_id, _synced_at, cloud, account_id, account_name, region, zone,
    id, name, arn, ctime, mtime, atime, tags
from {{ source('cloudtab', t) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
