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
        sum(campaign_budget) as campaign_budget,
        sum(customers_acquired) as customers_acquired,
        sum(total_orders) as total_orders,
        sum(total_revenue) as total_revenue,
        sum(campaign_tagged_revenue) as campaign_tagged_revenue

    from campaigns
    group by 1
),

final as (
    select
        channel,
        campaigns,
        campaign_budget,
        customers_acquired,
        total_orders,
        total_revenue,
        campaign_tagged_revenue,
        -- ratios of sums, not averages of the campaigns' ratios: a small campaign must not
        -- weigh as much as a big one
        round(campaign_budget / nullif(customers_acquired, 0), 2) as cost_per_acquisition,
        {{ growth_pct('total_revenue', 'campaign_budget') }} as return_on_investment,
        rank() over (
            order by (total_revenue - campaign_budget) / nullif(campaign_budget, 0) desc nulls last
        ) as roi_rank

    from channels
)

select * from final
order by roi_rank, channel
