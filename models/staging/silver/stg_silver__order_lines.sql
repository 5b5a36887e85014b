with source as (
    select * from {{ source('silver', 'order_lines') }}
),

renamed as (
    select
        order_id,
        line_no,
        sku,
        qty,
        line_amount,
        net_amount,
        is_revenue
    from source
)

select * from renamed
