-- Mart: one row per campaign, credited under LAST-TOUCH attribution: a customer belongs to the
-- campaign of their most recent revenue order that came through a campaign, and that campaign
-- gets credit for every revenue order of the customer. The project's marketing_attribution does
-- the same with the FIRST order: comparing the two shows which campaigns bring customers in and
-- which ones bring them back.

{{ config(materialized='table') }}

with

campaigns as (
    select * from {{ ref('stg_ecommerce__campaigns') }}
),

orders as (
    select * from {{ ref('fact_orders') }}
),

revenue_orders as (
    select * from orders
    where is_revenue
),

-- each customer's campaign orders, newest first (ties on the timestamp broken by order_id, so the
-- answer never depends on how the database happens to read the rows): the first one is the last touch
campaign_touches as (
    select
        customer_id,
        campaign_id,
        row_number() over (
            partition by customer_id
            order by ordered_at desc, order_id desc
        ) as touches_after

    from revenue_orders
    where campaign_id is not null
),

last_touches as (
    select
        customer_id,
        campaign_id

    from campaign_touches
    where touches_after = 1
),

credited as (
    select
        last_touches.campaign_id,
        count(distinct last_touches.customer_id) as customers,
        count(*) as total_orders,
        sum(revenue_orders.recognized_revenue) as total_revenue

    from last_touches
    inner join revenue_orders
        on last_touches.customer_id = revenue_orders.customer_id
    group by 1
),

-- every campaign of the seed, even one that is nobody's last touch
final as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        coalesce(credited.customers, 0) as customers,
        coalesce(credited.total_orders, 0) as total_orders,
        coalesce(credited.total_revenue, 0) as total_revenue

    from campaigns
    left join credited
        on campaigns.campaign_id = credited.campaign_id
)

select * from final
