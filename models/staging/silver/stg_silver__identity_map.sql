with source as (
    select * from {{ source('silver', 'identity_map') }}
),

renamed as (
    select
        id_type,
        id_hash,
        one_id,
        link_kind
    from source
)

select * from renamed
