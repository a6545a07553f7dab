-- The last run's scopes (account × region × service) that did not succeed:
-- failed, with their rows carried forward from an earlier run or dropped.
select
    _run_id, cloud, account_id, region, service, status, error,
    carried_rows, carried_dropped, started_at, duration_ms
from {{ source('cloudtab', '_scopes') }}
where status <> 'ok'
