{#-
    growth_pct(current, previous)

    How much `current` grew over `previous`, in percent with two decimals, as numeric(14, 2):
    100 * (current - previous) / previous. Null when `previous` is null (no earlier period to
    compare with) or 0 (nullif: a growth over nothing is undefined, not a division by zero).
-#}
{% macro growth_pct(current, previous) -%}
    {{ to_decimal('round(100.0 * (' ~ current ~ ' - ' ~ previous ~ ') / nullif(' ~ previous ~ ', 0), 2)') }}
{%- endmacro %}
