-- Analysis: the 20 customers with the highest lifetime value, and how much of the shop's
-- revenue they bring. An analysis is SQL that dbt compiles (refs resolved, Jinja rendered) but
-- never runs or materializes: `dbt compile --select top_customers_by_ltv`, then run the SQL in
-- target/compiled/ecom_dbt_tutorial/analyses/ with any SQL client.

{%- set top_n = 20 %}

with

customers as (
    select * from {{ ref('customer_analytics') }}
),

ranked as (
    select
        customer_id,
        customer_name,
        customer_segment,
        rfm_segment,
        total_orders,
        lifetime_value,
        average_order_value,
        last_order_date,
        -- row_number, not rank: exactly {{ top_n }} rows even if two customers tie
        row_number() over (order by lifetime_value desc, customer_id asc) as ltv_rank,
        -- the whole shop's revenue, to put each customer in proportion
        sum(lifetime_value) over () as total_revenue

    from customers
),

final as (
    select
        ltv_rank,
        customer_id,
        customer_name,
        customer_segment,
        rfm_segment,
        total_orders,
        lifetime_value,
        average_order_value,
        last_order_date,
        round(100.0 * lifetime_value / nullif(total_revenue, 0), 3) as revenue_share_pct,
        -- running share: "the top 10 customers bring x % of revenue"
        round(
            100.0 * sum(lifetime_value) over (order by ltv_rank) / nullif(total_revenue, 0),
            3
        ) as cumulative_revenue_share_pct

    from ranked
    where ltv_rank <= {{ top_n }}
)

select * from final
order by ltv_rank
