-- member_orders: one row per revenue-recognised order attributed to a person,
-- recognised on or before the as-of date. Spend is net sales (净销售额):
-- net_amount + platform_fee_amount, what the customer paid for the goods net of
-- discounts and refunds, before platform fees, so delivery buyers do not look
-- cheaper by the commission. Douyin vouchers count on their redemption date
-- (recognised_date) for the buyer; POS returns are negative; voids, expired and
-- refunded vouchers are not revenue in silver and so are not here.
with attributed as (
    select * from {{ ref('int_orders_attributed') }}
    where recognised_date <= {{ as_of_date() }}
),

final as (
    select
        -- ids
        order_id,
        one_id,
        attributed_by,
        channel,
        order_type,
        store_code,
        -- dates
        recognised_date as purchase_date,
        business_date,
        ordered_at,
        {{ daypart('ordered_at') }} as daypart,
        -- flags
        order_type = 'return' as is_return,
        order_type <> 'return' as is_counted_order,
        channel in ('meituan', 'eleme') as is_delivery,
        channel = 'douyin' and order_type = 'voucher' as is_douyin_voucher,
        (discount_amount + merchant_promotion_amount) > 0 as has_discount,
        refund_amount > 0 or order_type = 'return' as has_refund,
        -- amounts (yuan)
        cast(net_amount + platform_fee_amount as decimal(18, 2)) as net_sales_amount,
        net_amount,
        platform_fee_amount,
        cast(discount_amount + merchant_promotion_amount as decimal(18, 2)) as discount_amount,
        refund_amount,
        {{ as_of_date() }} as as_of_date
    from attributed
)

select * from final
