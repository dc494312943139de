{#-
    to_decimal(expression, precision=14, scale=2)

    cast(<expression> as numeric(<precision>, <scale>)): the exact type a model's contract
    declares for a money amount or a percentage.

    Why every computed amount of the marts goes through it: sum(), round(), lag(), case,
    coalesce() with a literal and arithmetic all return a plain `numeric`. dbt's contract check
    only compares type NAMES (numeric = numeric), but the table is created with the declared
    numeric(14, 2): without a cast, a value with more decimals would be rounded on insert,
    silently. A plain column read from another model keeps its type and needs no cast.
-#}
{% macro to_decimal(expression, precision=14, scale=2) -%}
    cast({{ expression }} as numeric({{ precision }}, {{ scale }}))
{%- endmacro %}
