-- depends_on: {{ ref('member_360') }}
-- member_tags (会员标签): the tags each person holds as of the as-of date, one row per
-- (one_id, tag). The tags are declared in _member_tags.yml (meta.tag_factory) and
-- compiled here by macros/conditions.sql: adding a tag is adding a YAML entry.
{#- The var `tag_factory` replaces the declared entries: dbt unit tests of the compiler
    declare their own entries through it. #}
{%- set declared = model.config.meta.get('tag_factory', []) if execute else [] %}
{%- set tags = var('tag_factory', none) or declared %}
{%- set required = ('name', 'label', 'description', 'owner', 'category', 'condition') %}
with held as (
    {%- if tags %}
        {{ compile_conditions(tags, ref('member_360'), 'one_id', 'tag', required) | indent(4) }}
    {%- else %}
    select null::varchar as one_id, null::varchar as name where false
    {%- endif %}
),

catalog as (
    {%- if tags %}
        select * from (
            values
            {%- for tag in tags %}
                (
                    {{ "'" ~ tag['name'] ~ "'" }},
                    {{ "'" ~ tag['label'] | replace("'", "''") ~ "'" }},
                    {{ "'" ~ tag['category'] | replace("'", "''") ~ "'" }}
                ){{ "," if not loop.last }}
            {%- endfor %}
        ) as declared (tag_name, tag_label, tag_category)  -- noqa: AL05
    {%- else %}
    select null::varchar as tag_name, null::varchar as tag_label, null::varchar as tag_category where false
    {%- endif %}
)

select
    held.one_id,
    catalog.tag_name,
    catalog.tag_label,
    catalog.tag_category,
    {{ as_of_date() }} as as_of_date
from held
inner join catalog on held.name = catalog.tag_name
