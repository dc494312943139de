-- Singular test: no revenue amount in any mart is negative. Returns one row per offending value,
-- naming the model, the column and the row.
--
-- The list below is explicit, so that dbt sees every ref() when it parses the project and runs
-- this test after all the marts. To keep it from going stale, the `if execute` block at the end
-- reads the project's own metadata (the graph) and stops the test with a clear error if a mart
-- documents a revenue-like column (revenue, lifetime value, order value, totals) that is not in
-- the list: a new column must be added here, not forgotten.

{%- set revenue_columns = {
    'fact_orders': ['order_id', ['order_total', 'recognized_revenue']],
    'fact_order_items': ['order_item_id', ['line_total', 'line_total_with_tax']],
    'dim_customers': ['customer_id', ['lifetime_value', 'average_order_value']],
    'customer_analytics': ['customer_id', ['lifetime_value', 'average_order_value']],
    'product_performance': ['product_id', ['total_revenue', 'average_unit_price', 'revenue_share_pct', 'category_revenue_share_pct']],
    'orders_daily': ['date_key', ['total_revenue', 'average_order_value', 'cumulative_revenue_ytd', 'revenue_same_day_last_year']],
    'orders_weekly': ['week_start_date', ['total_revenue', 'average_order_value', 'previous_week_revenue']],
    'orders_monthly': ['month_start_date', ['total_revenue', 'average_order_value', 'previous_month_revenue', 'revenue_same_month_last_year']],
    'marketing_attribution': ['campaign_id', ['total_revenue', 'campaign_tagged_revenue', 'avg_customer_ltv']],
} -%}

{%- set checks = [] -%}
{%- for model_name, spec in revenue_columns.items() -%}
    {%- set key_column, columns = spec[0], spec[1] -%}
    {%- for column in columns -%}
        {%- do checks.append(
            "select '" ~ model_name ~ "' as model_name, '" ~ column ~ "' as column_name, "
            ~ "cast(" ~ key_column ~ " as " ~ dbt.type_string() ~ ") as row_key, " ~ column ~ " as value "
            ~ "from " ~ ref(model_name) ~ " where " ~ column ~ " < 0"
        ) -%}
    {%- endfor -%}
{%- endfor %}

with

negative_values as (
    {{ checks | join('\n    union all\n    ') }}
)

select * from negative_values

{#- guard against a stale list: every revenue-like column documented on a mart must be checked -#}
{%- if execute -%}
    {%- set patterns = ['revenue', 'lifetime_value', 'ltv', 'order_value', 'order_total', 'line_total'] -%}
    {%- set missing = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name and 'marts' in node.fqn -%}
        {%- for column_name in node.columns
            if not column_name.startswith('is_') and patterns | select('in', column_name) | list | length > 0 -%}
            {%- set checked = revenue_columns.get(node.name, [none, []])[1] -%}
            {%- if column_name not in checked -%}
                {%- do missing.append(node.name ~ '.' ~ column_name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "assert_no_negative_revenue does not check these revenue columns: " ~ missing | join(', ')
            ~ ". Add them to the revenue_columns list in tests/assert_no_negative_revenue.sql.") }}
    {%- endif -%}
{%- endif -%}
