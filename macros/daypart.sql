{#- Daypart (时段) of a timestamp in the session time zone (Asia/Shanghai), by the hour:
    [05,10) breakfast 早餐, [10,14) lunch 午餐, [14,17) afternoon 下午茶,
    [17,21) dinner 晚餐, otherwise late_night 夜宵. A boundary hour belongs to the
    daypart it starts: 05:00:00 is breakfast, 04:59:59 is late_night. -#}
{% macro daypart(timestamp_expression) -%}
  case
    when {{ timestamp_expression }} is null then null
    when hour({{ timestamp_expression }}) >= 5 and hour({{ timestamp_expression }}) < 10 then 'breakfast'
    when hour({{ timestamp_expression }}) >= 10 and hour({{ timestamp_expression }}) < 14 then 'lunch'
    when hour({{ timestamp_expression }}) >= 14 and hour({{ timestamp_expression }}) < 17 then 'afternoon'
    when hour({{ timestamp_expression }}) >= 17 and hour({{ timestamp_expression }}) < 21 then 'dinner'
    else 'late_night'
  end
{%- endmacro %}
