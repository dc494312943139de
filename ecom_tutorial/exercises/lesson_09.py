"""Exercises of lesson 09, testing and docs: the rows a test rejects, and what a change breaks."""

from __future__ import annotations

import pandas as pd

from . import Exercise, Mistake, register

MODEL = "stg_ecommerce__orders"
KNOWN_STATUSES = "('completed', 'shipped', 'pending', 'cancelled', 'returned')"


def _models(select: str, keep_self: bool = False) -> pd.DataFrame:
    """Model names that dbt itself selects for `select` (dbt ls), without MODEL unless keep_self."""
    from ..runner import run_dbt

    names = run_dbt(["ls", "--select", select, "--resource-type", "model", "--output", "name"], progress=False).raw
    models = sorted({str(name) for name in names or []} - (set() if keep_self else {MODEL}))
    return pd.DataFrame({"model": models})


register(
    Exercise(
        id="09.1",
        title="Orders whose status the accepted_values test rejects",
        # staging normalises the raw status with lower(trim()): the test sees that value
        expected=f"""
            select order_id, lower(trim(status)) as order_status
            from raw_data.orders
            where lower(trim(status)) not in {KNOWN_STATUSES}
        """,
        key=("order_id",),
        mistakes=(
            Mistake(
                "Your query found nothing. The bad row is in raw_data.orders, and so in the staging VIEW "
                "stg_ecommerce__orders; fact_orders and the other marts are tables built before the row was "
                "inserted. Query the staging model, as the test does.",
                f"select order_id, order_status from {{target}}.fact_orders where order_status not in {KNOWN_STATUSES}",
            ),
        ),
        hint="select ... from stg_ecommerce__orders where order_status not in (the five statuses).",
    ),
    Exercise(
        id="09.2",
        title=f"Every model downstream of {MODEL}",
        expected=lambda: _models(f"{MODEL}+"),
        key=("model",),
        mistakes=(
            Mistake(
                "Only the direct children: the models that use those children are affected too. Keep "
                "following child_map until no new node appears.",
                lambda: _models(f"{MODEL}+1"),
            ),
            Mistake(
                f"Your list includes {MODEL} itself; the exercise asks for the models downstream of it.",
                lambda: _models(f"{MODEL}+", keep_self=True),
            ),
        ),
        hint="Walk manifest['child_map'] from the model's unique id, and keep the ids that start with 'model.'.",
    ),
)
