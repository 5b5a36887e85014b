{{ config(meta={"dagster": {"ref": {"name": "member_360"}}}) }}
-- Lifetime spend over all people in member_360 must equal silver's attributable
-- revenue up to the as-of date, to the fen: the net sales (net_amount +
-- platform_fee_amount) of every revenue-recognised order that carries at least one
-- pseudonym OneID knows. A failure means member_orders lost or double-counted orders
-- (attribution, windows or the people of member_360 disagree with silver).
with silver_orders as (
    select * from {{ ref('stg_silver__orders') }}
    where is_revenue and recognised_date <= {{ as_of_date() }}
),

known as (
    select
        id_type,
        id_hash
    from {{ ref('stg_silver__identity_map') }}
),

attributable as (
    select sum(net_amount + platform_fee_amount) as revenue_amount
    from silver_orders
    where exists (
        select 1 from known
        where
        {%- for column, id_type in attribution_precedence() %}
                (known.id_type = '{{ id_type }}' and known.id_hash = silver_orders.{{ column }})
                {{ "or" if not loop.last }}
        {%- endfor %}
    )
),

gold as (
    select sum(spend_lifetime_amount) as spend_amount from {{ ref('member_360') }}
)

select
    attributable.revenue_amount,
    gold.spend_amount
from attributable cross join gold
where coalesce(attributable.revenue_amount, 0) <> coalesce(gold.spend_amount, 0)
