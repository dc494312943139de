"""Exercises of lesson 08, marketing attribution: CAC by channel, organic customers by year."""

from __future__ import annotations

from . import Exercise, Mistake, register

# First touch, recomputed from the raw orders: each customer's first revenue order (ties on the
# timestamp broken by order_id, as in the model) and the campaign it carried.
FIRST_ORDERS = """
    first_orders as (
        select distinct on (customer_id)
            customer_id,
            campaign_id,
            cast(order_date as date) as first_order_date
        from raw_data.orders
        where {status}
        order by customer_id, order_date, order_id
    )
"""
REVENUE_STATUS = "lower(trim(status)) not in ('cancelled', 'returned')"
CAMPAIGNS = "{target}_seeds.campaign_metadata"


def _cac_by_channel(first_orders: str) -> str:
    return f"""
        with {first_orders},
        acquired as (
            select campaign_id, count(*) as customers
            from first_orders
            where campaign_id is not null
            group by 1
        )
        select
            campaigns.channel,
            round(sum(campaigns.budget) / nullif(sum(coalesce(acquired.customers, 0)), 0), 2)
                as cost_per_acquisition
        from {CAMPAIGNS} as campaigns
        left join acquired on campaigns.campaign_id = acquired.campaign_id
        group by 1
    """


def _organic_by_year(first_orders: str) -> str:
    return f"""
        with {first_orders}
        select
            cast(extract(year from first_order_date) as integer) as first_order_year,
            count(*) as organic_customers
        from first_orders
        where campaign_id is null
        group by 1
    """


register(
    Exercise(
        id="08.1",
        title="Cost per acquisition by channel",
        expected=_cac_by_channel(FIRST_ORDERS.format(status=REVENUE_STATUS)),
        key=("channel",),
        mistakes=(
            Mistake(
                "That is the average of the campaigns' CACs: a small campaign weighs as much as a big one. "
                "A channel's CAC is its total budget divided by its total customers acquired (a ratio of sums).",
                """
                select channel, round(avg(cost_per_acquisition), 2) as cost_per_acquisition
                from {target}.marketing_attribution
                group by 1
                """,
            ),
            Mistake(
                "You added up the campaigns' CACs; divide the channel's total budget by its total customers.",
                """
                select channel, round(sum(cost_per_acquisition), 2) as cost_per_acquisition
                from {target}.marketing_attribution
                group by 1
                """,
            ),
        ),
        hint="sum(campaign_budget) / sum(customers_acquired), grouped by channel.",
    ),
    Exercise(
        id="08.2",
        title="Organic customers by the year of their first revenue order",
        expected=_organic_by_year(FIRST_ORDERS.format(status=REVENUE_STATUS)),
        key=("first_order_year",),
        atol=0,
        mistakes=(
            Mistake(
                "Cancelled and returned orders were allowed as a customer's first order: the first order "
                "that counts is the first REVENUE order (is_revenue).",
                _organic_by_year(FIRST_ORDERS.format(status="true")),
            ),
            Mistake(
                "You counted orders without a campaign, not customers whose FIRST revenue order had none: "
                "find each customer's first revenue order first (row_number() or distinct on).",
                """
                select cast(extract(year from date_key) as integer) as first_order_year,
                       count(*) as organic_customers
                from {target}.fact_orders
                where is_revenue and campaign_id is null
                group by 1
                """,
            ),
            Mistake(
                "You counted customers with at least one order without a campaign; organic means the FIRST "
                "revenue order had no campaign (each customer counts once, in the year of that order).",
                """
                select cast(extract(year from date_key) as integer) as first_order_year,
                       count(distinct customer_id) as organic_customers
                from {target}.fact_orders
                where is_revenue and campaign_id is null
                group by 1
                """,
            ),
        ),
        hint="Pick each customer's first revenue order (order by ordered_at, order_id), keep those with a null campaign_id.",
    ),
)
