-- Analysis: which marketing channels pay off? Rolls the campaigns of marketing_attribution up
-- to their channel, under the same first-touch rule (see the attribution_rule docs), and ranks
-- the channels by return on investment.
-- Compile with `dbt compile --select campaign_roi_analysis`; run the SQL from target/compiled/.

with

campaigns as (
    select * from {{ ref('marketing_attribution') }}
),

channels as (
    select
        channel,
        count(*) as campaigns,
        sum(budget) as budget,
        sum(customers_acquired) as customers_acquired,
        sum(attributed_orders) as attributed_orders,
        sum(attributed_revenue) as attributed_revenue,
        sum(campaign_tagged_revenue) as campaign_tagged_revenue

    from campaigns
    group by 1
),

final as (
    select
        channel,
        campaigns,
        budget,
        customers_acquired,
        attributed_orders,
        attributed_revenue,
        campaign_tagged_revenue,
        -- ratios of sums, not averages of the campaigns' ratios: a small campaign must not
        -- weigh as much as a big one
        round(budget / nullif(customers_acquired, 0), 2) as cost_per_acquisition,
        round(100.0 * (attributed_revenue - budget) / nullif(budget, 0), 2) as return_on_investment,
        rank() over (order by (attributed_revenue - budget) / nullif(budget, 0) desc nulls last) as roi_rank

    from channels
)

select * from final
order by roi_rank, channel
