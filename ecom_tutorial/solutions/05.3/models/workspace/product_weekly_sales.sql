-- Mart: one row per week (Monday to Sunday) and product, with the units and revenue of its revenue
-- lines. Incremental: a run only re-aggregates the weeks that can still change.
--
-- The newest week in the table may be incomplete: built on a Tuesday, it holds Monday and Tuesday,
-- and Wednesday's lines belong to the same row. So the filter takes every line from the first day
-- of that week on (>=, not >), re-aggregates those weeks whole, and unique_key replaces their old
-- rows instead of adding a second row per week and product.

{{
    config(
        materialized='incremental',
        unique_key=['week_start', 'product_id'],
        incremental_strategy='delete+insert',
    )
}}

with

order_items as (
    select * from {{ ref('fact_order_items') }}
),

revenue_lines as (
    select
        cast(date_trunc('week', order_date) as date) as week_start,
        product_id,
        quantity,
        line_total

    from order_items
    where is_revenue
        -- as every mart: nothing after the as-of day
        and order_date <= {{ as_of_date() }}
    {% if is_incremental() %}
        -- the high-water mark: the first day of the newest week already in the table
        and order_date >= (select max(week_start) from {{ this }})
    {% endif %}
),

final as (
    select
        week_start,
        product_id,
        sum(quantity) as units_sold,
        sum(line_total) as revenue

    from revenue_lines
    group by 1, 2
)

select * from final
