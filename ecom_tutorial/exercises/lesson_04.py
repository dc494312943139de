"""Exercises of lesson 04 (product performance): margins per category, window-function rankings, a
window-function mart of your own (04.3) and a data test that fails (04.4, debugging)."""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, ModelCheck

REVENUE_LINES = """
    from raw_data.order_items
    inner join raw_data.orders on orders.order_id = order_items.order_id
    inner join raw_data.products on products.product_id = order_items.product_id
"""
REVENUE_ONLY = "where orders.status not in ('cancelled', 'returned')"


def _category_margins(profit: str, where: str = REVENUE_ONLY) -> str:
    return f"""
        select
            products.category,
            sum(order_items.line_total) as revenue,
            sum({profit}) as profit,
            round(100.0 * sum({profit}) / sum(order_items.line_total), 1) as margin_pct
        {REVENUE_LINES}
        {where}
        group by 1
    """


def _category_margins_from_the_marts(profit: str, where: str = "where items.is_revenue") -> str:
    """A typical wrong answer as the learner writes it: on the tables the exercise names."""
    return f"""
        select
            products.category,
            sum(items.line_total) as revenue,
            sum({profit}) as profit,
            round(100.0 * sum({profit}) / sum(items.line_total), 1) as margin_pct
        from fact_order_items as items
        inner join dim_products as products on items.product_key = products.product_key
        {where}
        group by 1
    """


def _best_sellers(measure: str) -> str:
    return f"""
        with product_sales as (
            select
                products.category,
                products.name as product_name,
                sum(order_items.line_total) as revenue,
                sum(order_items.quantity) as total_units_sold
            {REVENUE_LINES}
            {REVENUE_ONLY}
            group by products.product_id, 1, 2
        ),
        ranked as (
            select *, row_number() over (partition by category order by {measure} desc) as position
            from product_sales
        )
        select category, product_name, revenue
        from ranked
        where position = 1
    """


TRUE_PROFIT = "order_items.line_total - order_items.quantity * order_items.unit_cost"

register(
    Exercise(
        id="04.1",
        title="Revenue, profit and margin per category",
        expected=_category_margins(TRUE_PROFIT),
        key=("category",),
        atol=0.051,
        reads=("fact_order_items", "dim_products"),
        decimals=2,  # margin_pct to one decimal; revenue and profit are sums of cents
        mistakes=(
            Mistake(
                "Your totals include cancelled and returned orders: only revenue orders count.",
                _category_margins(TRUE_PROFIT, where=""),
                example=_category_margins_from_the_marts("items.line_profit", where=""),
            ),
            Mistake(
                "Your profit ignores the discounts: profit = line_total (what the customer paid, after discount) "
                "minus the cost, i.e. line_profit.",
                _category_margins("order_items.quantity * (order_items.unit_price - order_items.unit_cost)"),
                example=_category_margins_from_the_marts("items.quantity * (items.unit_price - items.unit_cost)"),
            ),
        ),
        hint="Sum line_total and line_profit per category over revenue orders; margin_pct = 100 * profit / revenue.",
        next_step="The category is on the product, the amounts on the order line: join fact_order_items to "
        "dim_products on product_key, keep the lines whose is_revenue is true, group by category, and compute "
        "margin_pct from the two sums (a ratio of sums, not an average of the lines' margins), rounded with round(..., "
        "1).",
    ),
    Exercise(
        id="04.2",
        title="The best-selling product of each category",
        expected=_best_sellers("revenue"),
        key=("category",),
        mistakes=(
            Mistake(
                "You ranked by units sold: the exercise ranks by revenue.",
                _best_sellers("total_units_sold"),
            ),
        ),
        hint="rank() or row_number() over (partition by category order by revenue desc), then keep rank 1.",
        next_step="A window function is computed after `where`, so you cannot filter on it in the same query: "
        "compute the ranking in a CTE (one row per product, its category, its revenue and the rank), then select "
        "from that CTE `where` the rank is 1. Without `partition by category` you get the one best seller of the shop.",
    ),
)


# --------------------------------------------------------------------------- 04.3: build it


def _price_ranks(rank: str = "dense_rank", partition: str = "partition by category", order: str = "desc") -> str:
    """One row per product with its place by list price in its category (the raw catalogue, as staging cleans it)."""
    return f"""
        with products as (
            select product_id, trim(name) as product_name, trim(category) as category, list_price
            from raw_data.products
        )
        select
            product_id,
            product_name,
            category,
            list_price,
            {rank}() over ({partition} order by list_price {order}) as category_price_rank,
            round(list_price - avg(list_price) over (partition by category), 2) as price_vs_category_avg
        from products
    """


def _ties_numbered_apart(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """Equal prices of a category got different ranks (row_number): the attempt has no tie where the data has."""
    if not {"category", "category_price_rank"} <= set(attempt.columns):
        return False
    return bool(
        not attempt.duplicated(["category", "category_price_rank"]).any()
        and expected.duplicated(["category", "category_price_rank"]).any()
    )


def _average_of_the_whole_catalogue(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """price_vs_category_avg is the difference to the average price of ALL products: a window without partition."""
    if not {"product_id", "price_vs_category_avg"} <= set(attempt.columns):
        return False
    overall = expected.assign(overall=expected["list_price"] - expected["list_price"].mean())
    merged = overall.merge(attempt, on="product_id", suffixes=("", "_yours"))
    return len(merged) == len(expected) and bool(
        ((merged["price_vs_category_avg_yours"] - merged["overall"]).abs() <= 0.01).all()
    )


register(
    BuildExercise(
        id="04.3",
        title="Build it: a window-function mart with a generic test",
        models=(
            ModelCheck(
                name="category_price_ranks",
                materialized="table",
                reads=("ref('stg_ecommerce__products')",),
                tests=(
                    ("product_id", "unique"),
                    ("product_id", "not_null"),
                    ("category_price_rank", "accepted_range"),
                ),
                expected=_price_ranks(),
                key=("product_id",),
                mistakes=(
                    Mistake(
                        "After a tie your ranks skip a number (1, 2, 2, 4): that is rank(). The exercise asks for "
                        "places without gaps, where the next lower price takes the next number: dense_rank().",
                        _price_ranks(rank="rank"),
                    ),
                    Mistake(
                        "Products with the same price got different ranks: row_number() numbers every row apart "
                        "(in an arbitrary order among equals). Equal prices must share a place.",
                        detect=_ties_numbered_apart,
                    ),
                    Mistake(
                        "Your ranks run over the whole catalogue, not within each category: the window of the rank "
                        "needs `partition by category`.",
                        _price_ranks(partition=""),
                    ),
                    Mistake(
                        "Your rank 1 is the cheapest product: order the window by list_price descending.",
                        _price_ranks(order="asc"),
                    ),
                    Mistake(
                        "price_vs_category_avg compares each price with the average of the WHOLE catalogue: "
                        "`avg(list_price) over ()` has no partition. The average must be the category's.",
                        detect=_average_of_the_whole_catalogue,
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "category_price_ranks"])',
        hint="Two window functions over `partition by category`: a ranking ordered by list_price descending, and "
        "avg(list_price) to subtract from each price. The YAML declares the tests under each column's `data_tests:`.",
        next_step="Of row_number(), rank() and dense_rank(), only one gives equal prices the same place AND no gap "
        "after them (section 3's table). The rank's range test is the package's generic test "
        "`ecom_utils.accepted_range` with `arguments: {min_value: 1}` (see how dim_products.yml uses it); run "
        '`display.show_compiled("category_price_ranks")` to see the SQL your windows become.',
    ),
)


# --------------------------------------------------------------------------- 04.4: debug it

RECENT_PRODUCT_SALES = """
    with

    as_of as (
        -- the as-of day the models use by default: the date of the last raw order
        select max(order_date)::date as day from raw_data.orders
    ),

    recent_sales as (
        select
            order_items.product_id,
            sum(order_items.quantity) as units_sold,
            sum(order_items.line_total) as revenue
        from raw_data.order_items
        inner join raw_data.orders on orders.order_id = order_items.order_id
        cross join as_of
        where lower(trim(orders.status)) not in ('cancelled', 'returned')
            and orders.order_date::date > as_of.day - 90
            and orders.order_date::date <= as_of.day
        group by 1
    )

    select
        products.product_id,
        trim(products.name) as product_name,
        trim(products.category) as category,
        products.is_active,
        {units} as units_sold,
        {revenue} as revenue
    from raw_data.products
    {join} join recent_sales on recent_sales.product_id = products.product_id
"""


def _unsold_are_null(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """The products that sold nothing have null units or revenue, where 0 is expected."""
    if not {"product_id", "units_sold"} <= set(attempt.columns):
        return False
    unsold = expected.loc[expected["units_sold"] == 0, ["product_id"]].merge(attempt, on="product_id")
    return not unsold.empty and bool(unsold["units_sold"].isna().all())


register(
    BuildExercise(
        id="04.4",
        title="Debug it: a data test that fails",
        models=(
            ModelCheck(
                name="product_sales_last_90_days",
                materialized="table",
                reads=(
                    "ref('stg_ecommerce__products')",
                    "ref('stg_ecommerce__order_items')",
                    "ref('stg_ecommerce__orders')",
                ),
                # the tests of the starting YAML: a fix that removes one is no fix
                tests=(
                    ("product_id", "unique"),
                    ("product_id", "not_null"),
                    ("units_sold", "not_null"),
                    ("revenue", "not_null"),
                ),
                expected=RECENT_PRODUCT_SALES.format(
                    units="coalesce(recent_sales.units_sold, 0)",
                    revenue="coalesce(recent_sales.revenue, 0)",
                    join="left",
                ),
                key=("product_id",),
                mistakes=(
                    Mistake(
                        "Products that sold nothing in the 90 days are missing: the model must keep every product of "
                        "the catalogue (that is what the left join is for), with 0 units and 0 revenue. The test "
                        "passes now, but the dashboard lost the products it most needs to show.",
                        RECENT_PRODUCT_SALES.format(
                            units="recent_sales.units_sold", revenue="recent_sales.revenue", join="inner"
                        ),
                    ),
                    Mistake(
                        "The products that sold nothing still have null units and revenue: the test was right, the "
                        "data is wrong. A product without a sale in the period sold 0, not an unknown number: turn the "
                        "left join's null into 0 in the model, and keep the test as it was.",
                        detect=_unsold_are_null,
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "product_sales_last_90_days"])',
        debugging=True,
        hint="Read dbt's message: which test failed, on which column, with how many rows. Then look at those rows "
        "(the test's compiled SQL is under target/compiled/): which products are they, and why is the value missing?",
        next_step="The failing rows are the discontinued products: they sold nothing in the 90 days, so the left "
        "join finds no sales row and fills the columns with null. Fix the model, not the test: the column should "
        "say 0 when the join found nothing (`coalesce`), for units_sold and revenue alike.",
    ),
)
