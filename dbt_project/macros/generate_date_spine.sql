{#-
    generate_date_spine(start_date, end_date)

    One row per calendar day from start_date to end_date, BOTH INCLUSIVE, in a single column
    `date_day` of type date. Arguments are ISO date strings ('2022-01-01').

    Why wrap dbt.date_spine instead of calling it directly?
    - dbt.date_spine stops the day BEFORE its end date (end exclusive); a calendar that ends on
      "2024-12-31" should contain 2024-12-31, so we pass end_date + 1 day.
    - on PostgreSQL its date_day column is a timestamp; a date dimension wants a plain date.
    - every model that needs a calendar calls this one macro, so the rules above live in one place.
-#}
{% macro generate_date_spine(start_date, end_date) %}

    {%- if start_date > end_date -%}
        {{ exceptions.raise_compiler_error(
            "generate_date_spine: start_date " ~ start_date ~ " is after end_date " ~ end_date) }}
    {%- endif -%}

    {%- set start_expr = "cast('" ~ start_date ~ "' as date)" -%}
    {#- dateadd gives a timestamp on PostgreSQL: cast back so both bounds have the same type -#}
    {%- set end_exclusive_expr = "cast(" ~ dbt.dateadd('day', 1, "cast('" ~ end_date ~ "' as date)") ~ " as date)" -%}

    select
        cast(date_day as date) as date_day
    from (
        {{ dbt.date_spine('day', start_expr, end_exclusive_expr) }}
    ) as spine

{% endmacro %}
