-- What goes if this goes: for each resource, everything that must be
-- deleted before it, transitively over `delete` edges (`from` can only be
-- deleted once `to` is), with the shortest depth. Cycles stop at
-- var('blast_radius_max_depth').
with recursive reach (root_id, root_kind, member_id, member_kind, depth) as (
    select from_id, from_kind, to_id, to_kind, 1
    from {{ source('cloudtab', '_edges') }}
    where edge_type = 'delete'
    union all
    select r.root_id, r.root_kind, e.to_id, e.to_kind, r.depth + 1
    from reach r
    join {{ source('cloudtab', '_edges') }} e
      on e.from_id = r.member_id and e.edge_type = 'delete'
    where r.depth < {{ var('blast_radius_max_depth') }}
)
select root_id, root_kind, member_id, member_kind, min(depth) as depth
from reach
where member_id <> root_id
group by root_id, root_kind, member_id, member_kind
