with source as (
    select * from {{ source('silver', 'products') }}
),

renamed as (
    select
        sku,
        product_name,
        category,
        subcategory
    from source
)

select * from renamed
