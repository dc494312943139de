{#-
    calculate_days_between(start_date, end_date)

    Whole days from start_date to end_date (positive when end_date is later), as an integer.
    A thin wrapper around dbt's cross-database dbt.datediff: models say what they mean
    ("days between") and the SQL dialect stays in one place.
    Both arguments are SQL expressions: column names, or quoted literals such as
    "'2024-12-31'". Cast timestamps to date first if you want calendar days.
-#}
{% macro calculate_days_between(start_date, end_date) -%}
    {#- trim: dbt.datediff wraps its expression in blank lines; one line reads better in target/ -#}
    {{ dbt.datediff(start_date, end_date, 'day') | trim }}
{%- endmacro %}
