{#-
    expression_is_true: fails on every row where the SQL expression is not true.

    On a model:   expression: "order_total >= 0"
    On a column:  expression: ">= 0"  (the column name is put in front of the expression)

    Rows where the expression is null (unknown) also fail: `not (null)` is null, so we test
    `is not true`, which catches both false and null.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
    {{ return(adapter.dispatch('test_expression_is_true', 'ecom_utils')(model, expression, column_name)) }}
{% endtest %}

{% macro default__test_expression_is_true(model, expression, column_name) %}

{%- set condition = (column_name ~ ' ' ~ expression) if column_name else expression -%}

select *
from {{ model }}
where ({{ condition }}) is not true

{% endmacro %}
