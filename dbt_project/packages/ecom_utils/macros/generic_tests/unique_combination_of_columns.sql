{#-
    unique_combination_of_columns: fails once per combination of the given columns that
    appears more than once, i.e. checks a compound primary key (the grain of a table).
-#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
    {{ return(adapter.dispatch('test_unique_combination_of_columns', 'ecom_utils')(model, combination_of_columns, quote_columns)) }}
{% endtest %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns, quote_columns) %}

{%- if combination_of_columns is string or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error(
        "unique_combination_of_columns expects a non-empty list of columns, got: "
        ~ combination_of_columns) }}
{%- endif -%}

{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor -%}
{%- set column_list = columns | join(', ') -%}

with

duplicated_combinations as (
    select
        {{ column_list }},
        count(*) as row_count
    from {{ model }}
    group by {{ column_list }}
    having count(*) > 1
)

select * from duplicated_combinations

{% endmacro %}
