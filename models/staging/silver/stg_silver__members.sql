with source as (
    select * from {{ source('silver', 'members') }}
),

renamed as (
    select
        -- person
        one_id,
        is_member,
        is_deleted,
        -- masked or coarse personal data only
        masked_phone,
        masked_name,
        gender,
        age_band,
        birth_month,
        -- how the person was resolved
        identifier_count,
        has_probabilistic_link,
        member_id_hash
    from source
)

select * from renamed
