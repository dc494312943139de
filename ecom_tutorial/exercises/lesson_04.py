"""Exercises of lesson 04 (product performance): margins per category and window-function rankings."""

from __future__ import annotations

from . import Exercise, Mistake, register

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
        mistakes=(
            Mistake(
                "Your totals include cancelled and returned orders: only revenue orders count.",
                _category_margins(TRUE_PROFIT, where=""),
            ),
            Mistake(
                "Your profit ignores the discounts: profit = line_total (what the customer paid, after discount) "
                "minus the cost, i.e. line_profit.",
                _category_margins("order_items.quantity * (order_items.unit_price - order_items.unit_cost)"),
            ),
        ),
        hint="Sum line_total and line_profit per category over revenue orders; margin_pct = 100 * profit / revenue.",
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
    ),
)
