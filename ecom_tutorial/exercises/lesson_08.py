"""Exercises of lesson 08, marketing attribution: CAC by channel, organic customers by year, and a
last-touch attribution model that you build (08.3)."""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, ModelCheck

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
        reads=("marketing_attribution",),
        decimals=2,  # "rounded to cents"
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
        next_step="Group marketing_attribution by channel and divide two sums: the channel's total "
        "campaign_budget by its total customers_acquired. nullif(..., 0) keeps a channel that acquired nobody "
        "from dividing by zero, and round(..., 2) gives cents. "
        "avg() of the campaigns' cost_per_acquisition is not the same number.",
    ),
    Exercise(
        id="08.2",
        title="Organic customers by the year of their first revenue order",
        expected=_organic_by_year(FIRST_ORDERS.format(status=REVENUE_STATUS)),
        key=("first_order_year",),
        atol=0,
        reads=("fact_orders",),
        mistakes=(
            Mistake(
                "Cancelled and returned orders were allowed as a customer's first order: the first order "
                "that counts is the first REVENUE order (is_revenue).",
                # every order may be the first one, cancelled and returned ones too (read from fact_orders,
                # the table the exercise names)
                """
                with first_orders as (
                    select distinct on (customer_id) customer_id, campaign_id, date_key
                    from {target}.fact_orders
                    order by customer_id, ordered_at, order_id
                )
                select cast(extract(year from date_key) as integer) as first_order_year,
                       count(*) as organic_customers
                from first_orders
                where campaign_id is null
                group by 1
                """,
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
        hint="Pick each customer's first revenue order (order by ordered_at, order_id), "
        "keep those with a null campaign_id.",
        next_step="Two steps. First one row per customer: their first revenue order, with `distinct on (customer_id)` "
        "and `order by customer_id, ordered_at, order_id` (or row_number() = 1), after `where is_revenue`. Then keep "
        "the rows whose campaign_id is null and count them by extract(year from date_key).",
    ),
)


# --------------------------------------------------------------------------- 08.3, build it

LAST_TOUCH = "campaign_last_touch"


def _credited(touch_order: str = "desc", touches: str = "campaign_id is not null") -> str:
    """Each campaign's customers, orders and revenue, from the raw orders: a customer is credited to the campaign
    of the revenue order `touch_order` puts first among those that pass `touches` (desc: the latest campaign
    order, last touch); that campaign gets every revenue order of the customer. One row per campaign."""
    return f"""
        with

        revenue_orders as (
            select * from raw_data.orders where {REVENUE_STATUS}
        ),

        touch as (
            select distinct on (customer_id) customer_id, campaign_id
            from revenue_orders
            where {touches}
            order by customer_id, order_date {touch_order}, order_id {touch_order}
        ),

        credited as (
            select
                touch.campaign_id,
                count(distinct touch.customer_id) as customers,
                count(*) as total_orders,
                sum(revenue_orders.total_amount) as total_revenue
            from touch
            inner join revenue_orders
                on touch.customer_id = revenue_orders.customer_id
            where touch.campaign_id is not null
            group by 1
        )

        select
            campaigns.campaign_id,
            campaigns.campaign_name,
            coalesce(credited.customers, 0) as customers,
            coalesce(credited.total_orders, 0) as total_orders,
            coalesce(credited.total_revenue, 0) as total_revenue
        from {CAMPAIGNS} as campaigns
        left join credited
            on campaigns.campaign_id = credited.campaign_id
    """


def _more_orders(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """More orders credited in all than there are revenue orders of the credited customers: other orders counted."""
    if "total_orders" not in attempt or attempt["total_orders"].isna().all():
        return False
    return float(attempt["total_orders"].sum()) > float(expected["total_orders"].sum())


register(
    BuildExercise(
        id="08.3",
        title="Build it: last-touch attribution",
        models=(
            ModelCheck(
                name=LAST_TOUCH,
                materialized="table",
                reads=("ref('fact_orders')", "ref('stg_ecommerce__campaigns')"),
                tests=(("campaign_id", "unique"), ("campaign_id", "not_null")),
                expected=_credited(),
                key=("campaign_id",),
                mistakes=(
                    Mistake(
                        "Your customers are credited to their FIRST campaign order, not their last: a window that "
                        "keeps row 1 must sort each customer's campaign orders newest first (both the timestamp and "
                        "the tie-breaker), and an aggregate must take the latest order, not the earliest.",
                        _credited(touch_order="asc"),
                    ),
                    Mistake(
                        "That is first-touch attribution, as marketing_attribution computes it (the campaign of the "
                        "customer's first revenue order, organic if it had none). Last touch looks at the customer's "
                        "orders that came through a campaign and keeps the latest of them.",
                        _credited(touch_order="asc", touches="true"),
                    ),
                    Mistake(
                        "You credit more orders than the credited customers' revenue orders: cancelled and returned "
                        "orders count neither as a touch nor as a credited order. Keep the orders where is_revenue "
                        "is true, before you look for the last touch.",
                        detect=_more_orders,
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{LAST_TOUCH}"])',
        hint="Find each customer's last touch first (one row per customer), then join their revenue orders to it and "
        "group by campaign; start the final CTE from the campaigns so that every campaign has its row.",
        next_step="The last touch is the first row of each customer's campaign orders sorted newest first: "
        "row_number() over (partition by customer_id order by ordered_at desc, order_id desc) = 1, over the "
        "revenue orders whose campaign_id is not null. Join that (one row per customer) back to the revenue "
        "orders on customer_id: count(distinct customer_id), count(*) and sum(recognized_revenue) per campaign. "
        "Then left join the totals to {{ ref('stg_ecommerce__campaigns') }} and coalesce() the missing ones to 0.",
    ),
)
