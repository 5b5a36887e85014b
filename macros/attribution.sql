{#- Attribution precedence (归属规则): an order belongs to the person of its first
    pseudonym, in this order, that silver's identity_map knows. Member id and card
    are the strongest evidence (the member identified themselves), then the phone,
    the WeChat unionid and openid, then the platforms' buyer ids. Returns
    [(orders column, identity_map id_type), ...], the rank being the position. -#}
{% macro attribution_precedence() -%}
  {{ return([
    ('member_id_pseudonym', 'member_id'),
    ('member_card_pseudonym', 'card_no'),
    ('member_phone_pseudonym', 'phone'),
    ('unionid_pseudonym', 'unionid'),
    ('openid_pseudonym', 'openid'),
    ('douyin_open_id_pseudonym', 'douyin_open_id'),
    ('meituan_user_pseudonym', 'meituan_user_id'),
    ('eleme_user_pseudonym', 'eleme_user_id'),
  ]) }}
{%- endmacro %}
