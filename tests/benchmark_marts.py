"""Time the queries the notebooks run against the marts, to check that they stay interactive.

    python tests/benchmark_marts.py               # median of 5 runs per query, in ms
    python tests/benchmark_marts.py --explain     # also print each query's EXPLAIN ANALYZE plan

It connects like every other command of the course (ECOM_DB_* variables, see
ecom_tutorial/settings.py) and reads the warehouse built by `ecom-tutorial build`. Not a test:
timings depend on the machine, so they are reported, not asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ecom_tutorial import database  # noqa: E402
from ecom_tutorial.settings import load_settings  # noqa: E402

# name -> SQL; {schema} is the marts' schema. Each one is typical of a notebook cell.
QUERIES: dict[str, str] = {
    "daily revenue, one year (orders_daily)": """
        select date_key, total_revenue, cumulative_revenue_ytd, yoy_growth_pct
        from {schema}.orders_daily
        where date_key between date '2024-01-01' and date '2024-12-31'
        order by date_key
    """,
    "monthly trend (orders_monthly)": """
        select month_start_date, total_revenue, mom_growth_pct, yoy_growth_pct
        from {schema}.orders_monthly
        order by month_start_date
    """,
    "latest days of the daily summary (int_orders__daily_agg, a view)": """
        select order_date, total_orders, total_revenue, total_units, unique_customers
        from {schema}.int_orders__daily_agg
        order by order_date desc
        limit 5
    """,
    "orders of one month (fact_orders by date_key)": """
        select count(*) as orders, sum(recognized_revenue) as revenue
        from {schema}.fact_orders
        where date_key between date '2024-11-01' and date '2024-11-30'
    """,
    "one customer's orders (fact_orders by customer_key)": """
        select f.order_id, f.date_key, f.order_status, f.order_total
        from {schema}.dim_customers as c
        inner join {schema}.fact_orders as f
            on f.customer_key = c.customer_key
        where c.customer_id = 133
        order by f.date_key
    """,
    "one product's monthly sales (fact_order_items by product_key)": """
        select date_trunc('month', f.order_date) as month, sum(f.line_total) as revenue
        from {schema}.dim_products as p
        inner join {schema}.fact_order_items as f
            on f.product_key = p.product_key
        where p.product_id = 7
            and f.is_revenue
        group by 1
        order by 1
    """,
    "one customer's scores (customer_analytics by customer_id)": """
        select customer_id, rfm_segment, recency_score, frequency_score, monetary_score
        from {schema}.customer_analytics
        where customer_id = 133
    """,
    "revenue by customer segment (fact_orders x dim_customers)": """
        select c.customer_segment, count(*) as orders, sum(f.recognized_revenue) as revenue
        from {schema}.fact_orders as f
        inner join {schema}.dim_customers as c
            on f.customer_key = c.customer_key
        group by 1
        order by 3 desc
    """,
    "category revenue by month (fact_order_items x dim_products x dim_date)": """
        select d.month_start_date, p.category, sum(f.line_total) as revenue
        from {schema}.fact_order_items as f
        inner join {schema}.dim_products as p
            on f.product_key = p.product_key
        inner join {schema}.dim_date as d
            on f.order_date = d.date_key
        where f.is_revenue
        group by 1, 2
        order by 1, 2
    """,
    "RFM segments (customer_analytics)": """
        select rfm_segment, count(*) as customers, round(avg(lifetime_value), 2) as avg_ltv
        from {schema}.customer_analytics
        group by 1
        order by 2 desc
    """,
    "top products (product_performance)": """
        select product_name, category, total_revenue, profit_margin_pct
        from {schema}.product_performance
        order by overall_rank
        limit 10
    """,
    "campaign ROI (marketing_attribution)": """
        select campaign_name, channel, customers_acquired, cost_per_acquisition, return_on_investment
        from {schema}.marketing_attribution
        order by return_on_investment desc
    """,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (the median is reported)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE for each query")
    args = parser.parse_args(argv)

    settings = load_settings()
    info = database.connection_info(settings)
    print(f"Marts in schema {settings.db_schema!r}, {info.describe()}; median of {args.repeat} runs.\n")
    with database.connection(info) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"select count(*) from {settings.db_schema}.fact_orders")
            print(f"fact_orders: {cursor.fetchone()[0]:,} rows\n")
            print(f"{'median ms':>10}  {'rows':>6}  query")
            for name, template in QUERIES.items():
                sql = template.format(schema=settings.db_schema)
                timings = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    cursor.execute(sql)
                    rows = cursor.fetchall()
                    timings.append((time.perf_counter() - started) * 1000)
                print(f"{statistics.median(timings):10.1f}  {len(rows):6d}  {name}")
                if args.explain:
                    cursor.execute("explain (analyze, costs off, timing off) " + sql)
                    print("\n".join("            " + line for (line,) in cursor.fetchall()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
