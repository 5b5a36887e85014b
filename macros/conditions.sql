{#- The condition compiler (标签工厂): named SQL conditions over one relation's columns,
    declared in YAML, compiled into one pass over the relation. Tags use it
    (member_tags); the ML audiences reuse it with their own entries.

    entries: a list of mappings, each with `name`, `condition` and the keys in
    `required`. `relation`: what the conditions read. `kind`: a word for messages
    ("tag", "audience"). Errors name the entry: a missing key, a duplicate name, a
    name that is not a lower_snake identifier, SQL that does not parse, or a column
    the relation does not have. -#}

{% macro validate_conditions(entries, relation, kind, required=('name', 'condition')) -%}
  {%- if entries is none or entries | length == 0 -%}
    {{ exceptions.raise_compiler_error("no " ~ kind ~ " entries declared") }}
  {%- endif -%}
  {%- set seen = [] -%}
  {%- for entry in entries -%}
    {%- set label = kind ~ " #" ~ loop.index ~ " (" ~ (entry.get('name') or 'unnamed') ~ ")" -%}
    {%- for key in required -%}
      {%- if entry.get(key) is none or (entry.get(key) | string | trim) == '' -%}
        {{ exceptions.raise_compiler_error(label ~ ": missing `" ~ key ~ "`") }}
      {%- endif -%}
    {%- endfor -%}
    {%- if not modules.re.fullmatch('[a-z][a-z0-9_]*', entry['name']) -%}
      {{ exceptions.raise_compiler_error(label ~ ": name must be lower_snake_case") }}
    {%- endif -%}
    {%- if entry['name'] in seen -%}
      {{ exceptions.raise_compiler_error(label ~ ": duplicate name `" ~ entry['name'] ~ "`") }}
    {%- endif -%}
    {%- do seen.append(entry['name']) -%}
  {%- endfor -%}
  {%- if execute -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for entry in entries -%}
      {%- set label = kind ~ " `" ~ entry['name'] ~ "`" -%}
      {%- set parsed = run_query("select json_serialize_sql(" ~ "'" ~ ("select " ~ entry['condition']) | replace("'", "''") ~ "'" ~ ")").columns[0].values()[0] -%}
      {%- set tree = fromjson(parsed) -%}
      {%- if tree.get('error') -%}
        {{ exceptions.raise_compiler_error(label ~ ": invalid SQL condition `" ~ entry['condition'] ~ "`: " ~ tree.get('error_message')) }}
      {%- endif -%}
      {%- for found in modules.re.findall('"column_names":\\["([^"]*)"\\]', parsed) -%}
        {#- no columns: the relation is a unit test's fixture CTE; the query checks it #}
        {%- if columns and found | lower not in columns -%}
          {{ exceptions.raise_compiler_error(label ~ ": unknown column `" ~ found ~ "` in `" ~ entry['condition'] ~ "` (" ~ relation ~ " has " ~ columns | join(', ') ~ ")") }}
        {%- endif -%}
      {%- endfor -%}
    {%- endfor -%}
  {%- endif -%}
{%- endmacro %}

{#- One row per (key, entry) where the entry's condition holds: one scan of the
    relation computes every condition as a boolean column, then UNPIVOT keeps the true
    ones. NULL counts as false. Output columns: the key and `name`. -#}
{% macro compile_conditions(entries, relation, key, kind, required=('name', 'condition')) -%}
  {{ validate_conditions(entries, relation, kind, required) }}
  with flags as (
    select
      {{ key }},
      {%- for entry in entries %}
      coalesce(({{ entry['condition'] }}), false)::boolean as "{{ entry['name'] }}"{{ "," if not loop.last }}
      {%- endfor %}
    from {{ relation }}
  ),
  unpivoted as (
    unpivot flags on {% for entry in entries %}"{{ entry['name'] }}"{{ ", " if not loop.last }}{% endfor %}
    into name name value holds
  )
  select {{ key }}, name from unpivoted where holds
{%- endmacro %}

