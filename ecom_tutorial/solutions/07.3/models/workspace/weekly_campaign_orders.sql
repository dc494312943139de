-- Mart: one row per ISO week (Monday to Sunday) of the calendar up to as_of_date, with the revenue
-- orders that a marketing campaign brought in. No campaign ran in some weeks: they are here, with 0.

{{ config(materialized='table') }}

with

calendar as (
    select * from {{ ref('dim_date') }}
),

orders as (
    select * from {{ ref('fact_orders') }}
),

-- the spine: every week of the calendar, whether or not anything happened in it
weeks as (
    select distinct week_start_date
    from calendar
    where date_key <= {{ as_of_date() }}
),

-- the facts, filtered BEFORE the join: a condition on them after a left join would drop the empty weeks
campaign_weeks as (
    select
        calendar.week_start_date,
        count(*) as campaign_orders,
        sum(orders.recognized_revenue) as campaign_revenue

    from orders
    inner join calendar
        on orders.date_key = calendar.date_key
    where orders.is_revenue
        and orders.campaign_id is not null
    group by 1
),

final as (
    select
        weeks.week_start_date,
        -- a week the join found nothing for had no campaign order: 0, not unknown
        coalesce(campaign_weeks.campaign_orders, 0) as campaign_orders,
        coalesce(campaign_weeks.campaign_revenue, 0) as campaign_revenue

    from weeks
    left join campaign_weeks
        on weeks.week_start_date = campaign_weeks.week_start_date
)

select * from final
