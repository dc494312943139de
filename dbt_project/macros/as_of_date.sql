{#-
    as_of_date()

    The day every "as of" filter and every recency is measured from, as a SQL date literal:
    cast('2024-12-31' as date). Never today: results must not drift with the calendar.

    Where the day comes from, in this order (the rule lives here and nowhere else):
    1. `--vars '{as_of_date: 2024-06-30}'`: a day you choose, to see the warehouse as it was;
    2. otherwise the date of the last order in the raw data. So a fresh load is "as of"
       2024-12-31, the next-day batch moves it to 2025-01-01, and plain `dbt build` in a
       terminal and `ecom-tutorial build` always agree.

    Why a literal and not the subquery itself? The compiled SQL under target/ then shows the
    day it was built for, and dim_date's calendar needs a fixed end. The query runs when a node
    is compiled (`execute`); while dbt parses the project there is no database, so it renders a
    placeholder that is never run.
-#}
{% macro as_of_date() -%}
    cast('{{ as_of_date_value() }}' as date)
{%- endmacro %}


{#-
    as_of_date_value()

    The same day as an ISO string ('2024-12-31'), for Jinja that needs the text itself
    (dim_date's calendar end, a year in a test). `| string` because `--vars` may pass a YAML date.
-#}
{% macro as_of_date_value() -%}
    {%- set chosen = var('as_of_date', none) -%}
    {%- if chosen -%}
        {{ return(chosen | string) }}
    {%- endif -%}
    {#- called while dbt parses too, so that every model using the date depends on the raw
        orders in the lineage (a unit test sets the variable and never gets here) -#}
    {%- set raw_orders = source('ecommerce', 'orders') -%}
    {%- if not execute -%}
        {{ return('2024-12-31') }}
    {%- endif -%}
    {%- set result = run_query('select cast(cast(max(order_date) as date) as ' ~ dbt.type_string() ~ ') from ' ~ raw_orders) -%}
    {%- set last_order_date = result.columns[0].values()[0] -%}
    {%- if not last_order_date -%}
        {{ exceptions.raise_compiler_error(
            "as_of_date: " ~ raw_orders ~ " has no orders, so there is no 'as of' day. Load the "
            ~ "raw data first (`ecom-tutorial up`) or pass --vars '{as_of_date: 2024-12-31}'.") }}
    {%- endif -%}
    {{ return(last_order_date) }}
{%- endmacro %}
