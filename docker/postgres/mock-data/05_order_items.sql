-- 05_order_items.sql: exactly 3 order lines per order on average (150,000 x scale), then the
-- order totals.
--
-- Every "random" choice is an md5 hash of a fixed text (see 02_products.sql), so every
-- PostgreSQL version builds exactly the same lines.
--
-- The story the order lines tell:
--   * Basket sizes: 25 percent of the orders have 1 line, 20 percent 2, 15 percent 3,
--     20 percent 4, 10 percent 5 and 10 percent 6 (exactly 3 on average), never the same
--     product twice in one order.
--   * Some products are far more popular than others, and categories have seasons:
--     toys and electronics in November/December, home & garden in spring, books at back-to-school.
--   * A product only sells while it is listed: after its launch, before its discontinuation.
--   * unit_price and unit_cost are the product's list price and cost (they did not change
--     during 2022-2024; the first price changes come with next_day_batch.sql).
--   * Business customers buy larger quantities.
--   * About 10 percent of the lines get a discount (5 to 25 percent), about half of the lines
--     of orders attributed to a campaign.
--   * line_total = quantity x unit_price - discount_amount, never negative; the order's
--     discount_amount and total_amount are the sums over its lines (the update at the end).

-- JIT compilation costs more than it saves for these one-off queries (seconds on PostgreSQL 15)
set jit = off;
-- room for the sorts and hashes of 1.5 million rows (scale 10) in memory; this session only
set work_mem = '128MB';

-- ecom_hash(text): a whole number in [0, 2^32) from the first 8 hex digits of the md5.
create or replace function pg_temp.ecom_hash(seed text) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(md5(seed), 1, 8))::bit(32)::bigint $fn$;

-- ecom_draw(digest, n): the n-th (1..4) 32-bit slice of an md5 digest, a whole number in
-- [0, 2^32). One md5 per row gives four independent draws (md5 is the expensive part).
create or replace function pg_temp.ecom_draw(digest text, part int) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(digest, 8 * part - 7, 8))::bit(32)::bigint $fn$;

insert into raw_data.order_items (
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    unit_cost,
    discount_amount,
    line_total
)

with

products as (
    select * from raw_data.products
),

orders as (
    select
        orders.order_id,
        orders.order_date,
        orders.campaign_id,
        customers.segment,
        -- months since January 2022: 0 .. 35
        (extract(year from orders.order_date)::int - 2022) * 12
            + extract(month from orders.order_date)::int - 1 as month_index
    from raw_data.orders as orders
    inner join raw_data.customers as customers
        on orders.customer_id = customers.customer_id
),

months as (
    select
        month_index,
        (date '2022-01-01' + make_interval(months => month_index))::date as month_start,
        mod(month_index, 12) + 1 as month_number
    from generate_series(0, 35) as month_index
),

-- how much each product sells in each month (0 = not listed that month)
product_month_weights as (
    select
        months.month_index,
        -- the 6 "pools" (product_id mod 6) let one order pick from 6 disjoint product sets:
        -- line k of an order picks from pool k, so an order never holds a product twice
        mod(products.product_id, 6) as pool,
        products.product_id,
        case
            when products.created_at >= months.month_start then 0
            when not products.is_active and months.month_start >= date_trunc('month', products.updated_at) then 0
            else
                -- popularity: 5 .. 95, most products at the low end
                (5 + popularity_draw * popularity_draw / 4)
                -- seasonality in percent, by category and month
                * case products.category
                    when 'Electronics' then (array[90, 85, 90, 90, 90, 95, 100, 100, 100, 105, 220, 190])[months.month_number]
                    when 'Toys' then (array[70, 70, 80, 85, 90, 95, 100, 95, 90, 110, 200, 320])[months.month_number]
                    when 'Home & Garden' then (array[90, 95, 120, 150, 170, 140, 110, 100, 95, 90, 100, 105])[months.month_number]
                    when 'Clothing' then (array[110, 90, 120, 120, 110, 100, 100, 110, 130, 120, 130, 140])[months.month_number]
                    when 'Books' then (array[105, 95, 95, 95, 100, 105, 110, 130, 140, 100, 110, 150])[months.month_number]
                    else 100
                end
                -- cheap products sell more units than expensive ones
                * case
                    when products.list_price < 25 then 40
                    when products.list_price < 60 then 30
                    when products.list_price < 150 then 20
                    when products.list_price < 300 then 12
                    else 7
                end
        end as weight
    from months
    cross join products
    cross join lateral (
        select mod(pg_temp.ecom_hash('product:' || products.product_id || ':popularity'), 20)::int as popularity_draw
    ) as draws
),

pools as (
    select
        month_index,
        pool,
        array_agg(product_id order by product_id) as product_ids,
        array_agg(cumulative_weight order by product_id) as cumulative_weights,
        max(cumulative_weight) as total_weight
    from (
        select
            product_month_weights.*,
            sum(weight) over (partition by month_index, pool order by product_id)::bigint as cumulative_weight
        from product_month_weights
    ) as running
    group by 1, 2
),

order_draws as materialized (
    select
        orders.*,
        md5('order:' || order_id || ':basket') as digest
    from orders
),

-- basket size: the orders, shuffled by a draw, take the 20 sizes of this pattern in turn,
-- so the shares are exact and the average is exactly 3
basket_sizes as (
    select
        order_draws.*,
        (array[1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6])[
            1 + mod(row_number() over (order by pg_temp.ecom_draw(digest, 1), order_id) - 1, 20)::int
        ] as line_count,
        mod(pg_temp.ecom_draw(digest, 2), 6)::int as first_pool
    from order_draws
),

-- order_item_id numbers the lines order by order: the first line of an order comes right
-- after the last line of the previous order
baskets as materialized (
    select
        order_id,
        month_index,
        segment,
        campaign_id,
        line_count,
        first_pool,
        sum(line_count) over (order by order_id) - line_count as item_id_offset
    from basket_sizes
),

lines as materialized (
    select
        baskets.item_id_offset + line_number as order_item_id,
        baskets.order_id,
        baskets.segment,
        baskets.campaign_id,
        -- line k picks from pool (first_pool + k) mod 6: never the same product twice
        pools.product_ids[
            width_bucket((pg_temp.ecom_draw(line_digest, 1) * pools.total_weight) / 4294967296, pools.cumulative_weights) + 1
        ] as product_id,
        line_digest
    from baskets
    cross join generate_series(1, baskets.line_count) as line_number
    cross join lateral (select md5('order:' || baskets.order_id || ':line:' || line_number) as line_digest) as digests
    inner join pools
        on baskets.month_index = pools.month_index
        and mod(baskets.first_pool + line_number, 6) = pools.pool
),

quantities as (
    select
        lines.order_item_id,
        lines.order_id,
        lines.product_id,
        case
            when quantity_draw < 70 then 1
            when quantity_draw < 88 then 2
            when quantity_draw < 96 then 3
            when quantity_draw < 99 then 4
            else 6
        end
        -- business customers buy in bulk
        * case lines.segment
            when 'corporate' then 1 + mod(bulk_draw, 4)
            when 'small_business' then 1 + mod(bulk_draw, 2)
            else 1
        end as quantity,
        -- discounts: about half of the lines of campaign orders, about 10 percent of the others
        case
            when discount_draw < case when lines.campaign_id is not null then 50 else 10 end
                then (array[5, 10, 10, 15, 20, 25])[1 + mod(discount_size_draw, 6)::int]
            else 0
        end as discount_pct
    from lines
    cross join lateral (
        select
            mod(pg_temp.ecom_draw(line_digest, 2), 100) as quantity_draw,
            pg_temp.ecom_draw(line_digest, 2) / 100 as bulk_draw,
            mod(pg_temp.ecom_draw(line_digest, 3), 100) as discount_draw,
            pg_temp.ecom_draw(line_digest, 4) as discount_size_draw
    ) as draws
),

final as (
    select
        quantities.order_item_id::int as order_item_id,
        quantities.order_id,
        quantities.product_id,
        quantities.quantity::int as quantity,
        products.list_price as unit_price,
        products.unit_cost,
        round(quantities.quantity * products.list_price * quantities.discount_pct / 100, 2) as discount_amount,
        quantities.quantity * products.list_price
            - round(quantities.quantity * products.list_price * quantities.discount_pct / 100, 2) as line_total
    from quantities
    inner join products
        on quantities.product_id = products.product_id
)

select * from final;

-- Statistics first, so that the update below joins with a hash join instead of 500,000 index
-- lookups (scale 10).
analyze raw_data.orders;
analyze raw_data.order_items;

-- The order header totals are the sums of the lines.
update raw_data.orders as orders
set
    discount_amount = order_totals.discount_amount,
    total_amount = order_totals.total_amount
from (
    select
        order_id,
        sum(discount_amount) as discount_amount,
        sum(line_total) as total_amount
    from raw_data.order_items
    group by 1
) as order_totals
where orders.order_id = order_totals.order_id;
