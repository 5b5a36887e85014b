-- member_360 (会员360): one row per person (one_id) who is a member as of the as-of
-- date or has bought anything by then. Every column is computed here, once.
{%- set channels = ['pos', 'miniprogram', 'douyin', 'meituan', 'eleme'] %}
with members as (
    select * from {{ ref('stg_silver__members') }}
),

history as (
    select * from {{ ref('stg_silver__member_history') }}
),

orders as (
    select * from {{ ref('member_orders') }}
),

lines as (
    select * from {{ ref('int_member_order_lines') }}
),

-- The member record as it was at the end of the as-of date (level, points, consent).
member_as_of as (
    select
        members.one_id,
        history.level,
        history.points_balance,
        history.marketing_consent,
        history.register_channel,
        history.register_store_code,
        cast(history.registered_at as date) as registered_date,
        history.is_deleted
    from members
    inner join history on members.member_id_hash = history.member_id_hash
    where
        not history.is_deleted
        and cast(history.valid_from_at as date) <= {{ as_of_date() }}
        and (history.valid_to_at is null or cast(history.valid_to_at as date) > {{ as_of_date() }})
),

purchases as (
    select
        one_id,
        -- a return is not a purchase: dates come from counted orders
        min(purchase_date) filter (where is_counted_order) as first_purchase_date,
        max(purchase_date) filter (where is_counted_order) as last_purchase_date,
        count(*) filter (where is_counted_order) as order_count_lifetime,
        {%- for days in [30, 90, 365] %}
            count(*) filter (
                where is_counted_order and purchase_date > {{ as_of_date() }} - {{ days }}
            ) as order_count_{{ days }}d,
            cast(coalesce(sum(net_sales_amount) filter (
                where purchase_date > {{ as_of_date() }} - {{ days }}
            ), 0) as decimal(18, 2)) as spend_{{ days }}d_amount,
        {%- endfor %}
        cast(sum(net_sales_amount) as decimal(18, 2)) as spend_lifetime_amount,
        count(*) filter (where is_counted_order and channel = 'pos') as in_store_order_count,
        count(*) filter (where is_counted_order and is_delivery) as delivery_order_count,
        count(*) filter (where is_douyin_voucher) as douyin_voucher_count,
        count(*) filter (where is_counted_order and has_discount) as discounted_order_count,
        count(*) filter (where has_refund) as refunded_order_count,
        count(*) filter (
            where is_counted_order and dayofweek(purchase_date) in (0, 6)
        ) as weekend_order_count,
        list(distinct channel order by channel) filter (where is_counted_order) as channels_used,
    {%- for channel in channels %}
        min(purchase_date) filter (
            where is_counted_order and channel = '{{ channel }}'
        ) as first_{{ channel }}_purchase_date,
        max(purchase_date) filter (
            where is_counted_order and channel = '{{ channel }}'
        ) as last_{{ channel }}_purchase_date
        {{ "," if not loop.last }}
    {%- endfor %}
    from orders
    group by one_id
),

-- Preferences: most orders first, then most spend, then the smallest value, so a tie
-- always resolves the same way.
preferred_store as (
    select
        one_id,
        store_code as preferred_store_code
    from orders
    where is_counted_order and store_code is not null
    group by one_id, store_code
    qualify row_number() over (
        partition by one_id order by count(*) desc, sum(net_sales_amount) desc, store_code
    ) = 1
),

preferred_daypart as (
    select
        one_id,
        daypart as preferred_daypart
    from orders
    where is_counted_order and daypart is not null
    group by one_id, daypart
    qualify row_number() over (
        partition by one_id order by count(*) desc, sum(net_sales_amount) desc, daypart
    ) = 1
),

preferred_category as (
    select
        one_id,
        category as preferred_category
    from lines
    where is_counted_order and category is not null
    group by one_id, category
    qualify row_number() over (
        partition by one_id
        order by count(distinct order_id) desc, sum(net_amount) desc, category
    ) = 1
),

preferred_subcategory as (
    select
        one_id,
        subcategory as preferred_subcategory
    from lines
    where is_counted_order and subcategory is not null
    group by one_id, subcategory
    qualify row_number() over (
        partition by one_id
        order by count(distinct order_id) desc, sum(net_amount) desc, subcategory
    ) = 1
),

-- Top-3 SKUs: by the number of orders that bought the SKU, then its net sales, then
-- the SKU code (ascending) on a full tie.
sku_ranked as (
    select
        one_id,
        sku,
        row_number() over (
            partition by one_id
            order by count(distinct order_id) desc, sum(net_amount) desc, sku
        ) as sku_rank
    from lines
    where is_counted_order and sku is not null
    group by one_id, sku
),

top_skus as (
    select
        one_id,
        list(sku order by sku_rank) as top_skus
    from sku_ranked
    where sku_rank <= 3
    group by one_id
),

products_bought as (
    select
        one_id,
        count(distinct order_id) filter (where category = '蛋糕') as cake_order_count,
        count(distinct order_id) filter (where subcategory = '生日蛋糕') as birthday_cake_order_count,
        count(distinct order_id) filter (
            where category = '面包' and purchase_date > {{ as_of_date() }} - 90
        ) as bread_order_count_90d,
        count(distinct order_id) filter (where category in ('季节', '礼盒'))
            as seasonal_gift_order_count
    from lines
    where is_counted_order
    group by one_id
),

people as (
    select one_id from member_as_of
    union
    select one_id from purchases
),

final as (
    select
        -- identity
        people.one_id,
        member_as_of.one_id is not null as is_member,
        members.masked_phone,
        members.masked_name,
        members.gender,
        members.age_band,
        members.birth_month,
        member_as_of.level,
        member_as_of.points_balance,
        members.identifier_count,
        coalesce(members.has_probabilistic_link, false) as has_probabilistic_link,
        -- sign-up
        member_as_of.register_channel,
        member_as_of.register_store_code,
        member_as_of.registered_date,
        -- channels
        coalesce(purchases.channels_used, []) as channels_used,
        len(coalesce(purchases.channels_used, [])) as channel_count,
        len(coalesce(purchases.channels_used, [])) >= 2 as is_omnichannel,
        {%- for channel in channels %}
            purchases.first_{{ channel }}_purchase_date,
            purchases.last_{{ channel }}_purchase_date,
        {%- endfor %}
        -- purchases
        purchases.first_purchase_date,
        purchases.last_purchase_date,
        {%- for days in [30, 90, 365] %}
            coalesce(purchases.order_count_{{ days }}d, 0) as order_count_{{ days }}d,
            coalesce(purchases.spend_{{ days }}d_amount, 0)::decimal(18, 2)
                as spend_{{ days }}d_amount,
        {%- endfor %}
        coalesce(purchases.order_count_lifetime, 0) as order_count_lifetime,
        cast(coalesce(purchases.spend_lifetime_amount, 0) as decimal(18, 2))
            as spend_lifetime_amount,
        cast(
            purchases.spend_lifetime_amount / nullif(purchases.order_count_lifetime, 0)
            as decimal(18, 2)
        ) as avg_order_value_amount,
        {{ as_of_date() }} - purchases.last_purchase_date as days_since_last_purchase,
        {{ as_of_date() }} - purchases.first_purchase_date as days_since_first_purchase,
        -- preferences
        preferred_store.preferred_store_code,
        preferred_category.preferred_category,
        preferred_subcategory.preferred_subcategory,
        preferred_daypart.preferred_daypart,
        round(purchases.weekend_order_count / nullif(purchases.order_count_lifetime, 0), 4)
            as weekend_share,
        round(1 - purchases.weekend_order_count / nullif(purchases.order_count_lifetime, 0), 4)
            as weekday_share,
        coalesce(top_skus.top_skus, []) as top_skus,
        -- behaviour
        round(purchases.in_store_order_count / nullif(purchases.order_count_lifetime, 0), 4)
            as in_store_share,
        round(purchases.delivery_order_count / nullif(purchases.order_count_lifetime, 0), 4)
            as delivery_share,
        coalesce(purchases.douyin_voucher_count, 0) as douyin_voucher_count,
        round(purchases.discounted_order_count / nullif(purchases.order_count_lifetime, 0), 4)
            as discount_share,
        round(purchases.refunded_order_count / nullif(purchases.order_count_lifetime, 0), 4)
            as refund_rate,
        coalesce(products_bought.cake_order_count, 0) as cake_order_count,
        coalesce(products_bought.bread_order_count_90d, 0) as bread_order_count_90d,
        coalesce(products_bought.seasonal_gift_order_count, 0) as seasonal_gift_order_count,
        coalesce(products_bought.birthday_cake_order_count, 0) > 0 as is_birthday_cake_buyer,
        -- consent
        coalesce(member_as_of.marketing_consent, false) as marketing_consent,
        {{ as_of_date() }} as as_of_date
    from people
    left join members on people.one_id = members.one_id
    left join member_as_of on people.one_id = member_as_of.one_id
    left join purchases on people.one_id = purchases.one_id
    left join preferred_store on people.one_id = preferred_store.one_id
    left join preferred_category on people.one_id = preferred_category.one_id
    left join preferred_subcategory on people.one_id = preferred_subcategory.one_id
    left join preferred_daypart on people.one_id = preferred_daypart.one_id
    left join top_skus on people.one_id = top_skus.one_id
    left join products_bought on people.one_id = products_bought.one_id
)

select * from final
