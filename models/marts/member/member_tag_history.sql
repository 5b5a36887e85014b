-- member_tag_history (标签历史): when each person held each tag, as half-open intervals
-- [valid_from, valid_to) of business dates; valid_to is null while the tag is held.
-- "Who had tag T on date D": valid_from <= D and (valid_to is null or valid_to > D).
-- Each run compares member_tags with the open intervals of the published history:
-- new tags open an interval on the as-of date, tags no longer held close theirs, the
-- rest is carried over unchanged, so the table grows by changes only. History moves
-- forward: a run for a date before the latest recorded change (a re-run or backfill of
-- an old night) publishes the history unchanged; it is not rewritten retroactively.
{%- set previous = none %}
{%- if execute %}
    {%- set previous = adapter.get_relation(
        database=this.database, schema='gold_published', identifier='member_tag_history'
    ) %}
{%- endif %}
{%- set in_the_past = false %}
{%- if previous is not none %}
    {%- set latest = run_query(
        "select max(greatest(valid_from, coalesce(valid_to, valid_from))) from " ~ previous
    ).columns[0].values()[0] %}
    {%- set in_the_past = latest is not none and (latest | string) > (var('as_of_date') | string) %}
    {%- if in_the_past %}
        {{ log("member_tag_history records changes up to " ~ latest ~ "; as_of_date "
               ~ var('as_of_date') ~ " is earlier: history published unchanged", info=true) }}
    {%- endif %}
{%- endif %}
with current_tags as (
    select
        one_id,
        tag_name,
        tag_label,
        tag_category
    from {{ ref('member_tags') }}
),

previous as (
    {%- if previous is not none %}
    select one_id, tag_name, tag_label, tag_category, valid_from, valid_to from {{ previous }}
    {%- else %}
        select
            null::varchar as one_id,
            null::varchar as tag_name,
            null::varchar as tag_label,
            null::varchar as tag_category,
            null::date as valid_from,
            null::date as valid_to
        where false
    {%- endif %}
),

open_intervals as (
    select * from previous
    where valid_to is null
),

closed_intervals as (
    select * from previous
    where valid_to is not null
),

carried as (
    select open_intervals.*
    from open_intervals
    semi join current_tags using (one_id, tag_name)
),

ended as (
    select
        one_id,
        tag_name,
        tag_label,
        tag_category,
        valid_from,
        {{ as_of_date() }} as valid_to
    from open_intervals
    anti join current_tags using (one_id, tag_name)
),

started as (
    select
        one_id,
        tag_name,
        tag_label,
        tag_category,
        {{ as_of_date() }} as valid_from,
        null::date as valid_to
    from current_tags
    anti join open_intervals using (one_id, tag_name)
),

intervals as (
    {%- if in_the_past %}
    select * from previous
    {%- else %}
        select * from closed_intervals
        union all
        select * from carried
        union all
        select * from ended
        union all
        select * from started
    {%- endif %}
)

select
    one_id,
    tag_name,
    tag_label,
    tag_category,
    valid_from,
    valid_to,
    valid_to is null as is_current
from intervals
-- a tag gained and lost on the same as-of date (a re-run) held on no day
where valid_to is null or valid_to > valid_from
