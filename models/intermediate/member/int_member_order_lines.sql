-- The lines of member_orders with their product category, for preferences.
with member_orders as (
    select
        order_id,
        one_id,
        purchase_date,
        is_counted_order
    from {{ ref('member_orders') }}
),

lines as (
    select
        order_id,
        sku,
        qty,
        net_amount
    from {{ ref('stg_silver__order_lines') }}
    where is_revenue
),

products as (
    select
        sku,
        category,
        subcategory
    from {{ ref('stg_silver__products') }}
)

select
    member_orders.one_id,
    member_orders.order_id,
    member_orders.purchase_date,
    member_orders.is_counted_order,
    lines.sku,
    products.category,
    products.subcategory,
    lines.qty,
    lines.net_amount
from lines
inner join member_orders on lines.order_id = member_orders.order_id
left join products on lines.sku = products.sku
