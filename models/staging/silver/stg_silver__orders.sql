-- Orders as silver publishes them; only the columns gold uses.
with source as (
    select * from {{ source('silver', 'orders') }}
),

renamed as (
    select
        -- ids
        order_id,
        channel,
        order_type,
        store_code,
        voucher_code,
        -- dates
        business_date,
        recognised_date,
        ordered_at,
        -- status
        status,
        is_revenue,
        fulfillment,
        -- pseudonyms (keyed hashes)
        member_card_pseudonym,
        member_phone_pseudonym,
        member_id_pseudonym,
        unionid_pseudonym,
        openid_pseudonym,
        douyin_open_id_pseudonym,
        meituan_user_pseudonym,
        eleme_user_pseudonym,
        -- amounts (yuan)
        gross_amount,
        discount_amount,
        merchant_promotion_amount,
        platform_fee_amount,
        refund_amount,
        net_amount
    from source
)

select * from renamed
