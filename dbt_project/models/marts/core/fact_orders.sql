-- Fact: one row per order placed on or before the `as_of_date` variable, every status included,
-- with the keys of its dimensions (customer, date, campaign) and the order's amounts.
--
-- Why keep cancelled and returned orders? A fact table records what happened; "what counts as
-- revenue" is a business rule, so it is a column (is_revenue, recognized_revenue) instead of a
-- filter. Every mart that sums revenue then uses the same rule, and an analyst can still count
-- cancellations.
--
-- Why stop at as_of_date? Every aggregate of the project is "as of" that day (see
-- int_customers__orders_agg). Orders loaded later, e.g. the next-day batch when dbt runs with
-- the default as_of_date, wait for the next as_of_date instead of pointing to a day that
-- dim_date does not have yet.

-- Indexes for the notebooks' two ways into this table (plans from EXPLAIN ANALYZE at scale 10,
-- 500,000 orders; the primary key on order_id comes with its own index, see the contract):
-- * one customer's orders, `join dim_customers ... where customer_id = 133`:
--   without an index: Parallel Seq Scan on fact_orders, Parallel Hash Join, 55 ms;
--   with (customer_key): Nested Loop + Bitmap Index Scan on customer_key, 74 rows, 6 ms.
-- * one month of orders, `where date_key between '2024-11-01' and '2024-11-30'`:
--   without an index: Parallel Seq Scan, 156,878 rows removed by filter per worker, 46-56 ms;
--   with (date_key): Bitmap Index Scan + Bitmap Heap Scan, 29,365 rows, 17-26 ms.
-- A full-table aggregate (revenue by segment) reads everything anyway: no index helps there,
-- but fresh statistics do (the `analyze` post-hook in dbt_project.yml: 1,058 ms -> 165 ms).
{{
    config(
        indexes=[
            {'columns': ['customer_key']},
            {'columns': ['date_key']},
        ],
    )
}}

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

-- one row per order: roll the lines up before joining, so the join cannot multiply orders
order_lines as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as units,
        sum(line_cost) as order_cost

    from order_items
    group by 1
),

orders_as_of as (
    select *
    from orders
    where order_date <= {{ as_of_date() }}
),

final as (
    select
        -- keys: the same hash of the natural key as dim_customers.customer_key, computed here
        -- without a join (like fact_order_items); date_key joins dim_date, campaign_id the
        -- campaigns (null = the order came without a campaign)
        orders_as_of.order_id,
        {{ ecom_utils.generate_surrogate_key(['orders_as_of.customer_id']) }} as customer_key,
        orders_as_of.customer_id,
        orders_as_of.order_date as date_key,
        orders_as_of.campaign_id,

        -- when and in which state
        orders_as_of.ordered_at,
        orders_as_of.order_status,
        {{ is_revenue_order('orders_as_of.order_status') }} as is_revenue,

        -- size of the order; an order without lines (none in the mock data) counts 0, not null
        coalesce(order_lines.line_count, 0) as line_count,
        coalesce(order_lines.units, 0) as units,

        -- amounts; to_decimal() pins the types the contract declares (why: macros/to_decimal.sql)
        orders_as_of.discount_amount,
        orders_as_of.order_total,
        -- what the order contributes to revenue: its total if it counts, else 0. Summing this
        -- column is the one correct way to get revenue from this table.
        case
            when {{ is_revenue_order('orders_as_of.order_status') }}
                then {{ to_decimal('orders_as_of.order_total', precision=12) }}
            else {{ to_decimal('0', precision=12) }}
        end as recognized_revenue,
        {{ to_decimal('coalesce(order_lines.order_cost, 0)', precision=12) }} as order_cost,
        {{ to_decimal('orders_as_of.order_total - coalesce(order_lines.order_cost, 0)', precision=12) }}
            as gross_profit

    from orders_as_of
    left join order_lines
        on orders_as_of.order_id = order_lines.order_id
)

select * from final
