"""Exercises of lesson 05, incremental models: the high-water mark and the new day's revenue."""

from __future__ import annotations

from ..mock_data import NEXT_DAY_BATCH_DATE
from . import Exercise, Mistake, register

# What counts as revenue, written out here so that the expected results do not reuse the models.
REVENUE_FILTER = "lower(trim(orders.status)) not in ('cancelled', 'returned')"

register(
    Exercise(
        id="05.1",
        title="The next high-water mark of fact_order_items",
        # the definition itself: the model's filter compares with max(source_loaded_at) of {{ this }}
        expected="select max(source_loaded_at) as high_water_mark from {target}.fact_order_items",
        mistakes=(
            Mistake(
                "That is the date of the last order. The model filters on the load timestamp "
                "(source_loaded_at), so that an order placed earlier but loaded later is not missed.",
                "select max(order_date) as high_water_mark from {target}.fact_order_items",
            ),
            Mistake(
                "That is the time of the last order (ordered_at). The model filters on when rows were "
                "loaded (source_loaded_at), not on when the customer ordered.",
                "select max(ordered_at) as high_water_mark from {target}.fact_order_items",
            ),
            Mistake(
                "min() gives the oldest load time; the filter keeps rows newer than the NEWEST row "
                "already in the table: max().",
                "select min(source_loaded_at) as high_water_mark from {target}.fact_order_items",
            ),
        ),
        hint="Read the `where` of the is_incremental() block: it compares with a max() over {{ this }}.",
    ),
    Exercise(
        id="05.2",
        title=f"Revenue of the orders placed on {NEXT_DAY_BATCH_DATE}",
        expected=f"""
            select sum(items.line_total) as revenue
            from raw_data.order_items as items
            inner join raw_data.orders as orders
                on items.order_id = orders.order_id
            where cast(orders.order_date as date) = date '{NEXT_DAY_BATCH_DATE}'
                and {REVENUE_FILTER}
        """,
        mistakes=(
            Mistake(
                "You seem to have counted every line of the day, cancelled and returned orders too: "
                "keep only the lines where is_revenue is true.",
                f"""
                select sum(line_total) as revenue
                from {{target}}.fact_order_items
                where order_date = date '{NEXT_DAY_BATCH_DATE}'
                """,
            ),
            Mistake(
                "That is the revenue including sales tax (line_total_with_tax); the exercise asks for "
                "the amounts before tax: line_total.",
                f"""
                select sum(line_total_with_tax) as revenue
                from {{target}}.fact_order_items
                where order_date = date '{NEXT_DAY_BATCH_DATE}' and is_revenue
                """,
            ),
            Mistake(
                "line_total is already after the line's discount: subtracting discount_amount again "
                "counts the discount twice.",
                f"""
                select sum(line_total - discount_amount) as revenue
                from {{target}}.fact_order_items
                where order_date = date '{NEXT_DAY_BATCH_DATE}' and is_revenue
                """,
            ),
            Mistake(
                f"Your query found no line of {NEXT_DAY_BATCH_DATE}: did you run the cells above that apply "
                "the next-day batch and run fact_order_items incrementally?",
                "select cast(null as numeric) as revenue",
            ),
        ),
        hint="Filter fact_order_items on order_date and is_revenue, and sum line_total.",
    ),
)
