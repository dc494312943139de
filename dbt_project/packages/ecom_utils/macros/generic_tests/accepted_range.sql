{#-
    accepted_range: fails on every row whose column value lies outside [min_value, max_value].

    Either bound may be omitted. inclusive=true (the default) accepts the bounds themselves.
    Nulls are not checked (pair it with not_null if the column is mandatory), as in dbt_utils.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {{ return(adapter.dispatch('test_accepted_range', 'ecom_utils')(model, column_name, min_value, max_value, inclusive)) }}
{% endtest %}

{% macro default__test_accepted_range(model, column_name, min_value, max_value, inclusive) %}

{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(
        "accepted_range on " ~ column_name ~ ": give at least one of min_value and max_value") }}
{%- endif -%}

{%- set lower_op = '>=' if inclusive else '>' -%}
{%- set upper_op = '<=' if inclusive else '<' -%}

with

checked as (
    select
        {{ column_name }} as checked_value
    from {{ model }}
    where {{ column_name }} is not null
)

select *
from checked
where not (
    1 = 1
    {%- if min_value is not none %}
    and checked_value {{ lower_op }} {{ min_value }}
    {%- endif %}
    {%- if max_value is not none %}
    and checked_value {{ upper_op }} {{ max_value }}
    {%- endif %}
)

{% endmacro %}
