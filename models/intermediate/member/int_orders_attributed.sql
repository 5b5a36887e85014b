-- Each revenue-recognised order and the person it is attributed to, by the
-- precedence of macros/attribution.sql: the first of the order's pseudonyms that
-- identity_map knows decides (member id, card, phone, unionid, openid, platform ids).
-- Orders no pseudonym attributes (walk-in tickets, B2B) are not here.
with orders as (
    select * from {{ ref('stg_silver__orders') }}
    where is_revenue
),

identity_map as (
    select
        id_type,
        id_hash,
        one_id
    from {{ ref('stg_silver__identity_map') }}
),

candidates as (
    {%- for column, id_type in attribution_precedence() %}
        select
            order_id,
            {{ loop.index }} as attribution_rank,
            '{{ id_type }}' as id_type,
            {{ column }} as id_hash
        from orders
        where {{ column }} is not null
        {{ "union all" if not loop.last }}
    {%- endfor %}
),

matched as (
    select
        candidates.order_id,
        candidates.attribution_rank,
        candidates.id_type as attributed_by,
        identity_map.one_id
    from candidates
    inner join identity_map
        on
            candidates.id_type = identity_map.id_type
            and candidates.id_hash = identity_map.id_hash
    qualify row_number() over (
        partition by candidates.order_id order by candidates.attribution_rank
    ) = 1
)

select
    orders.*,
    matched.one_id,
    matched.attributed_by
from orders
inner join matched on orders.order_id = matched.order_id
