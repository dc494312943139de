{#-
    Two halves of one time series report (orders_daily, orders_weekly, orders_monthly), so that
    the three grains count orders, revenue, units and customers the same way.

    aggregate_orders_by_period(period_column)
        The select of one row per period with revenue orders: `period_column` of the calendar
        (week_start_date, month_start_date), orders, revenue, units and distinct customers.
        Reads the CTEs `orders` (fact_orders) and `calendar` (dim_date) of the calling model.
        Customers are counted at the grain of the report: someone who orders on Monday and on
        Friday is one customer of the week, so a coarser grain cannot add up a finer one.

    period_order_measures(period_orders)
        The measure columns of a report whose calendar is left-joined to `period_orders` (the
        CTE built by the select above, or int_orders__daily_agg): 0 for a period without orders
        (there were none: zero, not unknown), and an average order value that stays null there
        (there is no "average order" to speak of).
-#}
{% macro aggregate_orders_by_period(period_column) %}
    select
        calendar.{{ period_column }},
        count(*) as total_orders,
        sum(orders.recognized_revenue) as total_revenue,
        -- sum() of a bigint is a numeric in PostgreSQL: cast back, units are whole numbers
        cast(sum(orders.units) as bigint) as total_units,
        count(distinct orders.customer_id) as unique_customers

    from orders
    inner join calendar
        on orders.date_key = calendar.date_key
    where orders.is_revenue
    group by 1
{% endmacro %}

{% macro period_order_measures(period_orders) -%}
        coalesce({{ period_orders }}.total_orders, 0) as total_orders,
        -- 0.00, not 0: an amount keeps its two decimals (0 would print as "0", other days "12.50")
        {{ to_decimal('coalesce(' ~ period_orders ~ '.total_revenue, 0.00)') }} as total_revenue,
        coalesce({{ period_orders }}.total_units, 0) as total_units,
        coalesce({{ period_orders }}.unique_customers, 0) as unique_customers,
        {{ to_decimal('round(' ~ period_orders ~ '.total_revenue / nullif(' ~ period_orders ~ '.total_orders, 0), 2)') }}
            as average_order_value
{%- endmacro %}
