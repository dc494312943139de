"""Exercises of lesson 02 (staging): querying the staging views, using a macro, building a staging model
of your own and repairing a broken one.

The query exercises enforce what their text asks (the staging views, `{{ ref() }}`, the rounding) and
recognise typical mistakes by their cause in the answer's SQL (`Mistake.in_sql`) where the SQL shows it.
The small readers of a parsed answer below (`column_names`, `aggregates`, `filters_revenue`) serve lesson 03 too.
"""

from __future__ import annotations

import pandas as pd
from sqlglot import exp

from . import Exercise, Mistake, register
from .build_checks import BuildExercise, ModelCheck
from .sql_answers import reads_relation

# --------------------------------------------------------------------------- reading an answer's SQL (sqlglot's tree)

REVENUE_STATUSES = ("cancelled", "returned")  # the statuses is_revenue_order() leaves out


def column_names(node: exp.Expression) -> set[str]:
    """The names of the columns an expression mentions (without table qualifiers), lower case."""
    return {column.name.lower() for column in node.find_all(exp.Column)}


def aggregates(tree: exp.Expression, function: type[exp.Expression], column: str) -> bool:
    """Does the SQL apply this aggregate (exp.Min, exp.Sum, ...) to an expression on `column`?"""
    return any(column in column_names(node) for node in tree.find_all(function))


def filters_revenue(tree: exp.Expression) -> bool:
    """Does the SQL leave out cancelled and returned orders (by their statuses, or a revenue flag column)?"""
    statuses = {literal.this.lower() for literal in tree.find_all(exp.Literal) if literal.is_string}
    return bool(statuses & set(REVENUE_STATUSES)) or bool({"is_revenue", "recognized_revenue"} & column_names(tree))


# --------------------------------------------------------------------------- 02.1 and 02.2: query the staging views


def _order_values(*, revenue_only: bool = True, join_items: bool = False) -> str:
    """Average order value per segment on the staging views (a typical mistake when not the defaults)."""
    items = "inner join stg_ecommerce__order_items as items on items.order_id = orders.order_id" if join_items else ""
    where = "where orders.order_status not in ('cancelled', 'returned')" if revenue_only else ""
    return f"""
        select
            customers.customer_segment,
            count(*) as orders,
            round(avg(orders.order_total), 2) as average_order_value
        from stg_ecommerce__orders as orders
        inner join stg_ecommerce__customers as customers on customers.customer_id = orders.customer_id
        {items}
        {where}
        group by 1
    """


def _reads_order_lines(tree: exp.Expression) -> bool:
    return any(reads_relation(name)(tree) for name in ("order_items", "stg_ecommerce__order_items", "fact_order_items"))


def _counts_distinct_customers(tree: exp.Expression) -> bool:
    return any(
        isinstance(count.this, exp.Distinct) and "customer_id" in column_names(count.this)
        for count in tree.find_all(exp.Count)
    )


def _days_to_first_order(
    *,
    ref: bool = False,
    first: str = "min",
    revenue_only: bool = True,
    reversed_days: bool = False,
    every_customer: bool = False,
) -> str:
    """Average days from sign-up to the first revenue order per segment, on the staging views.

    `ref=True` writes it as the exercise asks (ref() and the macro); each other argument makes one typical mistake.
    """

    def relation(name: str) -> str:
        return f"{{{{ ref('{name}') }}}}" if ref else name

    start, end = "customers.signup_date", "first_orders.first_order_date"
    if reversed_days:
        start, end = end, start
    days = f"{{{{ calculate_days_between('{start}', '{end}') }}}}" if ref else f"({end} - {start})"
    where = "where order_status not in ('cancelled', 'returned')" if revenue_only else ""
    join = (
        f"from {relation('stg_ecommerce__customers')} as customers\n"
        "left join first_orders on first_orders.customer_id = customers.customer_id"
        if every_customer
        else f"from first_orders\ninner join {relation('stg_ecommerce__customers')} as customers "
        "on customers.customer_id = first_orders.customer_id"
    )
    return f"""
        with first_orders as (
            select customer_id, {first}(order_date) as first_order_date
            from {relation("stg_ecommerce__orders")}
            {where}
            group by 1
        )
        select
            customers.customer_segment,
            count(*) as customers,
            round(avg({days}), 1) as avg_days_to_first_order
        {join}
        group by 1
    """


def _subtracts_order_from_signup(tree: exp.Expression) -> bool:
    """Days computed as sign-up minus order: the macro's arguments (start, end) given the other way round."""
    return any(
        any("signup" in name or "signed_up" in name or "created_at" in name for name in column_names(sub.this))
        and any("order_date" in name for name in column_names(sub.expression))
        for sub in tree.find_all(exp.Sub)
    )


register(
    Exercise(
        id="02.1",
        title="Average order value per customer segment",
        expected="""
            select
                lower(trim(customers.segment)) as customer_segment,
                count(*) as orders,
                round(avg(orders.total_amount), 2) as average_order_value
            from raw_data.orders
            inner join raw_data.customers on customers.customer_id = orders.customer_id
            where orders.status not in ('cancelled', 'returned')
            group by 1
        """,
        key=("customer_segment",),
        reads=("stg_ecommerce__orders", "stg_ecommerce__customers"),
        decimals=2,
        mistakes=(
            Mistake(
                "You joined the order lines: each order then counts once per line (a fan-out), so big orders weigh "
                "more. The exercise needs no line: join stg_ecommerce__orders with stg_ecommerce__customers only.",
                in_sql=_reads_order_lines,
                example=_order_values(join_items=True),
            ),
            Mistake(
                "`orders` counts distinct customers: the exercise asks for the number of revenue orders, and the "
                "orders view has one row per order: `count(*)`.",
                in_sql=_counts_distinct_customers,
                example=_order_values().replace("count(*) as orders", "count(distinct orders.customer_id) as orders"),
            ),
            Mistake(
                "Your averages include cancelled and returned orders: keep only "
                "`order_status not in ('cancelled', 'returned')`.",
                _order_values(revenue_only=False),
            ),
        ),
        hint="Join the staging orders to the staging customers on customer_id, filter the statuses, group by segment.",
        next_step="Read `stg_ecommerce__orders as orders inner join stg_ecommerce__customers as customers on ...` "
        "(the customer_id of both), keep the rows whose order_status is neither cancelled nor returned, and `group by` "
        "the segment. Then one row per order means `count(*)` counts orders, and the average of order_total goes "
        "inside `round(..., 2)`: rounded to cents, as the check requires.",
    ),
    Exercise(
        id="02.2",
        title="Days from sign-up to first purchase, with the calculate_days_between macro",
        expected="""
            with first_orders as (
                select customer_id, min(cast(order_date as date)) as first_order_date
                from raw_data.orders
                where status not in ('cancelled', 'returned')
                group by 1
            )
            select
                lower(trim(customers.segment)) as customer_segment,
                count(*) as customers,
                round(avg(first_orders.first_order_date - cast(customers.created_at as date)), 1)
                    as avg_days_to_first_order
            from first_orders
            inner join raw_data.customers on customers.customer_id = first_orders.customer_id
            group by 1
        """,
        key=("customer_segment",),
        atol=0.05,
        reads=("stg_ecommerce__orders", "stg_ecommerce__customers"),
        uses_ref=True,
        decimals=1,
        mistakes=(
            Mistake(
                "You measured to the LAST order (max), not the first (min).",
                in_sql=lambda tree: aggregates(tree, exp.Max, "order_date"),
                example=_days_to_first_order(ref=True, first="max"),
            ),
            Mistake(
                "The days are negative: the macro's arguments are (start, end); put signup_date first.",
                in_sql=_subtracts_order_from_signup,
                example=_days_to_first_order(ref=True, reversed_days=True),
            ),
            Mistake(
                "`customers` counts the customers who never bought too: count only those with a revenue order "
                "(start from the first orders and inner join the customers).",
                _days_to_first_order(every_customer=True),
                example=_days_to_first_order(ref=True, every_customer=True),
            ),
            Mistake(
                "You counted a cancelled or returned order as the first purchase: use revenue orders only.",
                _days_to_first_order(revenue_only=False),
                example=_days_to_first_order(ref=True, revenue_only=False),
            ),
        ),
        hint="First find each customer's first revenue order date (min), then "
        "{{ calculate_days_between('signup_date', 'first_order_date') }} and average it per segment.",
        next_step="Two steps. A CTE `first_orders` reads {{ ref('stg_ecommerce__orders') }}, keeps the revenue "
        "orders and groups by customer_id, with the earliest order_date as first_order_date. The final select joins "
        "it (inner join: buyers only) to {{ ref('stg_ecommerce__customers') }} on customer_id and groups by "
        "customer_segment; the days are the macro with the sign-up date as start and first_order_date as end, "
        "averaged and rounded to one decimal.",
    ),
)


# --------------------------------------------------------------------------- build it, and debug it

_CAMPAIGN_ORDERS = """
    select
        order_id,
        customer_id,
        campaign_id,
        cast(order_date as date) as order_date,
        lower(trim(status)) as order_status,
        total_amount as order_total
    from raw_data.orders
    {where}
"""


def _has_time_of_day(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """order_date kept the raw timestamp's time of day instead of being cast to a date."""
    if "order_date" not in attempt:
        return False
    dates = pd.to_datetime(attempt["order_date"])
    return bool((dates != dates.dt.normalize()).any())


register(
    BuildExercise(
        id="02.3",
        title="Build it: a staging model of the orders that campaigns brought in",
        models=(
            ModelCheck(
                name="stg_ecommerce__campaign_orders",
                materialized="view",
                reads=("source('ecommerce', 'orders')",),
                tests=(("order_id", "unique"), ("order_id", "not_null"), ("order_status", "accepted_values")),
                expected=_CAMPAIGN_ORDERS.format(where="where campaign_id is not null"),
                key=("order_id",),
                mistakes=(
                    Mistake(
                        "Your model keeps the orders that came from no campaign: "
                        "keep only the rows that have a campaign_id.",
                        _CAMPAIGN_ORDERS.format(where=""),
                    ),
                    Mistake(
                        "order_date still has the time of day: the raw column is a timestamp; cast it to a date.",
                        detect=_has_time_of_day,
                        example="select order_id, customer_id, campaign_id, order_date, status as order_status, "
                        "total_amount as order_total from raw_data.orders where campaign_id is not null",
                    ),
                ),
            ),
        ),
        build='run_dbt(["build", "--select", "stg_ecommerce__campaign_orders"])',
        hint="Start from stg_ecommerce__orders.sql: a `source` CTE on {{ source('ecommerce', 'orders') }}, a CTE that "
        "renames, casts and keeps the campaign orders, then `select * from` it. The YAML goes next to it.",
        next_step="The SQL: `with source as (select * from {{ source('ecommerce', 'orders') }}), campaign_orders as "
        "(select <each column, renamed and cast as in stg_ecommerce__orders.sql> from source where <the rows with a "
        "campaign>) select * from campaign_orders`. The YAML: `models:` → `- name: stg_ecommerce__campaign_orders` "
        "with a `description:` and `columns:`, each with a `description:`; under order_id `data_tests: [unique, "
        "not_null]`, under order_status an `accepted_values` test whose `arguments: values:` are the five statuses "
        "(copy its shape from models/staging/stg_ecommerce__orders.yml).",
    ),
    BuildExercise(
        id="02.4",
        title="Debug it: a ref() to a model that does not exist",
        models=(
            ModelCheck(
                name="campaign_order_counts",
                materialized="view",
                reads=("ref('stg_ecommerce__orders')",),
                described=False,
                expected="select campaign_id, count(*) as orders from raw_data.orders "
                "where campaign_id is not null group by 1",
                key=("campaign_id",),
            ),
        ),
        build='run_dbt(["build", "--select", "campaign_order_counts"])',
        debugging=True,
        hint="dbt's message names the model it could not find: compare that name with the staging models' names.",
        next_step="The message says `depends on a node named '...' which was not found` and gives the file and the "
        "line: open that file, compare the name inside ref() with the file names in models/staging/ (one letter "
        "differs), correct it, save, and run the build cell again before checking.",
    ),
)
