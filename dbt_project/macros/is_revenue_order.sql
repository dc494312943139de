{#-
    is_revenue_order(status_column='order_status')

    True when an order with this status counts as revenue: every status except cancelled and
    returned (a cancelled or returned order earned the shop nothing). A boolean SQL expression,
    for a `where` clause or a flag column:

        where {{ is_revenue_order() }}
        {{ is_revenue_order('orders.order_status') }} as is_revenue

    The business rule lives here only: fact_orders, fact_order_items and the intermediate
    aggregations all call it, so a new status (say, 'refunded') is one edit, not six.
    The singular test assert_customer_ltv_matches_orders deliberately writes the rule out
    again: a test that reused this macro could not catch a mistake in it.
-#}
{% macro is_revenue_order(status_column='order_status') -%}
    {{ status_column }} not in ('cancelled', 'returned')
{%- endmacro %}
