{#-
    high_water_mark(column, data_type)

    The newest `column` of an incremental model's own table ({{ this }}), for its
    is_incremental() filter: `cast('<value>' as <data_type>)`, or 1900-01-01 for an empty table.

    Why a literal, read when dbt runs the model, and not the subquery `(select max(column) from
    {{ this }})` in the SQL? With a subquery PostgreSQL plans the filter `loaded_at > <mark>`
    without knowing the mark, guesses that a third of the rows pass, and reads whole tables. With
    the value in the SQL it sees from the index that a few hundred rows are newer, and reads only
    those: the run costs what the batch costs. The compiled SQL (target/compiled/) shows the mark.

    Two exceptions keep the subquery, which PostgreSQL computes itself: while dbt parses the
    project there is no database (`execute` is false), and in a unit test `this` is the test's
    rows (a CTE of the test's query), which no query can read beforehand.
-#}
{% macro high_water_mark(column, data_type) -%}
    {%- set default = "cast('1900-01-01' as " ~ data_type ~ ")" -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set newest = run_query("select max(" ~ column ~ ") from " ~ this).columns[0].values()[0] -%}
        {{- default if newest is none else "cast('" ~ newest ~ "' as " ~ data_type ~ ")" -}}
    {%- else -%}
        (select coalesce(max({{ column }}), {{ default }}) from {{ this }})
    {%- endif -%}
{%- endmacro %}
