{#- The run's business date as a DATE literal, from the `as_of_date` var.
    Every model computes windows from it, never from the wall clock. At parse time
    (no var yet, e.g. when Dagster prepares the manifest) a placeholder is rendered;
    a run without the var fails with this message. -#}
{% macro as_of_date() -%}
  {%- set value = var('as_of_date', none) -%}
  {%- if value is none -%}
    {%- if execute -%}
      {{ exceptions.raise_compiler_error("the dbt var as_of_date (YYYY-MM-DD) is required: dbt build --vars '{as_of_date: 2026-11-07}'") }}
    {%- endif -%}
    {%- set value = '1970-01-01' -%}
  {%- endif -%}
  {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
    {{ exceptions.raise_compiler_error("as_of_date must be YYYY-MM-DD, got " ~ value) }}
  {%- endif -%}
  cast('{{ value }}' as date)
{%- endmacro %}
