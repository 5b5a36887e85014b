with source as (
    select * from {{ source('silver', 'member_history') }}
),

renamed as (
    select
        member_id_hash,
        valid_from_at,
        valid_to_at,
        is_deleted,
        level,
        points_balance,
        marketing_consent,
        register_channel,
        register_store as register_store_code,
        registered_at
    from source
)

select * from renamed
