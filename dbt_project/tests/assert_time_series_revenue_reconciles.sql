-- Singular test: the three time series are three views of the same sales, so over their whole
-- range they must add up to the same totals as fact_orders (revenue orders, up to as_of_date).
-- Orders, revenue and units add up across grains; distinct customers do not (a customer of two
-- days is one customer of the week), so they are not compared here.
-- A failure means a grain lost or double-counted days: a calendar filter that drops the partial
-- first week, a join that fans out, a status filter that differs from fact_orders.is_revenue.
-- Returns one row per time series whose totals differ from the fact.

{%- set time_series = ['orders_daily', 'orders_weekly', 'orders_monthly'] %}

with

fact_orders as (
    select * from {{ ref('fact_orders') }}
),

expected as (
    select
        count(*) as total_orders,
        sum(recognized_revenue) as total_revenue,
        sum(units) as total_units

    from fact_orders
    where is_revenue
),

-- the same three sums over each time series (one select per model, written once in a loop)
series_totals as (
    {%- for model_name in time_series %}
        select
            '{{ model_name }}' as model_name,
            sum(total_orders) as total_orders,
            sum(total_revenue) as total_revenue,
            sum(total_units) as total_units
        from {{ ref(model_name) }}
        {%- if not loop.last %}

            union all
        {% endif -%}
    {% endfor %}
),

compared as (
    select
        series_totals.model_name,
        series_totals.total_orders,
        expected.total_orders as expected_order_count,
        series_totals.total_revenue,
        expected.total_revenue as expected_revenue,
        series_totals.total_units,
        expected.total_units as expected_units_sold

    from series_totals
    cross join expected
)

select *
from compared
-- `is distinct from`, not `<>`: it also flags a total that is null on one side only
where total_orders is distinct from expected_order_count
    or total_revenue is distinct from expected_revenue
    or total_units is distinct from expected_units_sold
