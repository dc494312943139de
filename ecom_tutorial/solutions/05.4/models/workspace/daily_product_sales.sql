-- Units and revenue per day and product, built by microbatch: dbt runs this select once per month
-- of order_date (batch_size), from `begin` to today, and each run redoes the current month and the
-- `lookback` months before it. No is_incremental() filter: dbt filters fact_order_items to the
-- batch's month itself, because that model declares its event_time (order_date). unique_key
-- replaces a month's rows when the month is built again (a rerun, a backfill).

{{
    config(
        materialized='incremental',
        incremental_strategy='microbatch',
        event_time='order_date',
        batch_size='month',
        begin='2022-01-01',
        lookback=1,
        unique_key=['order_date', 'product_id'],
    )
}}

with

order_items as (
    select * from {{ ref('fact_order_items') }}
),

final as (
    select
        order_date,
        product_id,
        sum(quantity) as units_sold,
        sum(line_total) as revenue

    from order_items
    where is_revenue
    group by 1, 2
)

select * from final
