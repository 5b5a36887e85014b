{#- Fails with the rows whose combination of `combination` columns is not unique
    (the grain of a model keyed by several columns; dbt_utils is not available). -#}
{% test unique_combination_of_columns(model, combination) %}
select {{ combination | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}
