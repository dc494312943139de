{#-
    calculate_revenue_with_tax(amount, tax_rate=none)

    The amount including sales tax, rounded to cents: amount * (1 + tax_rate).
    The rate comes from the project variable `tax_rate` (dbt_project.yml) unless given,
    so a change of rate is one line of configuration, or one flag:
    `dbt build --vars '{tax_rate: 0.2}'`.

    The cast before round() is dbt's numeric type (dbt.type_numeric: numeric(28, 6) on PostgreSQL,
    decimal(28, 6) on Spark), not a bare `numeric`: on Spark that means decimal(10, 0), whole
    numbers, and 82.04 would come out as 82 (found by lesson 11's comparison of the engines).
-#}
{% macro calculate_revenue_with_tax(amount, tax_rate=none) -%}
    {%- set rate = tax_rate if tax_rate is not none else var('tax_rate') -%}
    round(cast({{ amount }} * (1 + {{ rate }}) as {{ dbt.type_numeric() }}), 2)
{%- endmacro %}
