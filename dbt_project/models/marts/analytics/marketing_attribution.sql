-- Marketing attribution: one row per campaign (all campaigns, even those that acquired nobody),
-- with the customers it acquired under FIRST-TOUCH attribution, their orders, revenue and
-- lifetime value, and what each acquisition cost. The rule and its limits are in the docs block
-- `attribution_rule` (marketing_attribution.md, next to this file).
--
-- The rule in one sentence: a customer is acquired by the campaign of their first revenue order
-- (placed on or before as_of_date), and that campaign gets credit for every revenue order the
-- customer ever places. Customers whose first order had no campaign are "organic" and credited
-- to no campaign.

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

-- each customer's first revenue order; ties on the timestamp are broken by order_id, so the
-- answer never depends on how the database happens to read the rows
first_orders as (
    select
        customer_id,
        campaign_id as acquiring_campaign_id,
        row_number() over (
            partition by customer_id
            order by ordered_at, order_id
        ) as order_rank

    from revenue_orders
),

acquisitions as (
    select
        customer_id,
        acquiring_campaign_id

    from first_orders
    where order_rank = 1
        and acquiring_campaign_id is not null
),

-- first touch: every revenue order of an acquired customer is credited to the acquiring campaign
attributed as (
    select
        acquisitions.acquiring_campaign_id as campaign_id,
        count(distinct acquisitions.customer_id) as customers_acquired,
        count(*) as total_orders,
        sum(revenue_orders.recognized_revenue) as total_revenue

    from acquisitions
    inner join revenue_orders
        on acquisitions.customer_id = revenue_orders.customer_id
    group by 1
),

-- for comparison: the orders that carry the campaign's id themselves (whoever placed them)
tagged as (
    select
        campaign_id,
        count(*) as campaign_tagged_orders,
        sum(recognized_revenue) as campaign_tagged_revenue

    from revenue_orders
    where campaign_id is not null
    group by 1
),

joined as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.start_date,
        campaigns.end_date,
        {{ calculate_days_between('campaigns.start_date', 'campaigns.end_date') }} + 1 as campaign_days,
        campaigns.budget as campaign_budget,
        -- "active" on as_of_date, never on today: results must not change with the calendar
        {{ as_of_date() }} between campaigns.start_date and campaigns.end_date
            as is_active,
        coalesce(attributed.customers_acquired, 0) as customers_acquired,
        coalesce(attributed.total_orders, 0) as total_orders,
        -- to_decimal() pins the type the contract declares (why: macros/to_decimal.sql)
        {{ to_decimal('coalesce(attributed.total_revenue, 0.00)') }} as total_revenue,
        coalesce(tagged.campaign_tagged_orders, 0) as campaign_tagged_orders,
        {{ to_decimal('coalesce(tagged.campaign_tagged_revenue, 0.00)') }} as campaign_tagged_revenue

    from campaigns
    left join attributed
        on campaigns.campaign_id = attributed.campaign_id
    left join tagged
        on campaigns.campaign_id = tagged.campaign_id
),

final as (
    select
        *,
        -- lifetime value of the average acquired customer, up to as_of_date
        {{ to_decimal('round(total_revenue / nullif(customers_acquired, 0), 2)') }} as avg_customer_ltv,
        -- null, not infinite, for a campaign that acquired nobody
        {{ to_decimal('round(campaign_budget / nullif(customers_acquired, 0), 2)') }} as cost_per_acquisition,
        -- revenue return on the budget, in percent: 100 % = the campaign earned twice its cost,
        -- i.e. the growth of revenue over budget. Revenue, not profit: see the limits in the
        -- attribution_rule docs block.
        {{ growth_pct('total_revenue', 'campaign_budget') }} as return_on_investment

    from joined
)

select * from final
