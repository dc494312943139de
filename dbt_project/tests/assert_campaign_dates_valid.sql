-- Singular test: campaign dates make sense, and orders respect them.
-- 1. every campaign starts on or before the day it ends (and has both dates);
-- 2. every order that carries a campaign_id was placed inside that campaign's window
--    (start_date to end_date, both included), and the campaign exists: an order "from" a
--    campaign that had not started, or that nobody ever ran, would corrupt attribution.
-- Each returned row is one problem.

with

campaigns as (
    select * from {{ ref('stg_ecommerce__campaigns') }}
),

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

invalid_campaigns as (
    select
        'campaign ' || campaign_id as record_id,
        'campaign dates are missing or end before they start: '
        || coalesce(cast(start_date as {{ dbt.type_string() }}), 'null') || ' to '
        || coalesce(cast(end_date as {{ dbt.type_string() }}), 'null') as problem
    from campaigns
    where start_date is null
        or end_date is null
        or start_date > end_date
),

orders_outside_window as (
    select
        'order ' || orders.order_id as record_id,
        case
            when campaigns.campaign_id is null
                then 'campaign_id ' || orders.campaign_id || ' does not exist'
            else 'placed on ' || orders.order_date || ', outside campaign ' || campaigns.campaign_id
                || ' (' || campaigns.start_date || ' to ' || campaigns.end_date || ')'
        end as problem
    from orders
    left join campaigns
        on orders.campaign_id = campaigns.campaign_id
    where orders.campaign_id is not null
        and (
            campaigns.campaign_id is null
            or orders.order_date not between campaigns.start_date and campaigns.end_date
        )
),

problems as (
    select * from invalid_campaigns
    union all
    select * from orders_outside_window
)

select * from problems
