{#-
    as_of_date()

    The `as_of_date` project variable as a SQL date literal: cast('2024-12-31' as date).
    Every "as of" filter and every recency is measured from this day, never from today, so
    results do not drift with the calendar (see the variable in dbt_project.yml).

    Why a macro for one cast? The variable is read in a dozen models and tests; here the
    quoting and the cast are written once. `| string` because `--vars '{as_of_date: 2025-01-01}'`
    arrives as a YAML date, not a string; both render the same ISO text.
-#}
{% macro as_of_date() -%}
    cast('{{ var("as_of_date") | string }}' as date)
{%- endmacro %}
