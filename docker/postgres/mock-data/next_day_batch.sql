-- next_day_batch.sql: what the source system exported on the "next day", 2025-01-01.
--
-- Run it after the base load (01..06) to practise incremental models and snapshots:
--   * 60 x scale new orders, all dated 2025-01-01, with their order lines; order_id and
--     order_item_id continue after the base data, and the lines use the prices of that day;
--   * 25 customers (whatever the scale) move to another segment (updated_at = 2025-01-01 ...);
--   * 3 other customers (whatever the scale) move to another city of the same state and keep
--     their segment: a change a snapshot records although the segment did not change;
--   * 5 products get a new list price and 1 product moves to another category
--     (updated_at = 2025-01-01 ...).
--
-- Deterministic and idempotent: running it a second time changes nothing.
--   * Who changes is chosen by a hash of ids and of columns the batch never changes
--     (created_at, state, is_active, name), so a second run picks the same rows.
--   * A row is only changed if it has not been changed by the batch yet
--     (updated_at < 2025-01-01), so a new price is never computed from an already new price.
--   * New orders and lines are inserted with `on conflict do nothing`.
-- Like 02..05, it is plain SQL without psql commands, and works with and without autocommit.

set jit = off;

create or replace function pg_temp.ecom_hash(seed text) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(md5(seed), 1, 8))::bit(32)::bigint $fn$;

-- 1. One product moves category: the smart thermostat belongs with the home products.
update raw_data.products
set
    category = 'Home & Garden',
    updated_at = timestamp '2025-01-01 07:45:00'
where name like '% Smart Thermostat Pro'
    and updated_at < timestamp '2025-01-01 00:00:00';

-- 2. Five active products get a new list price: a few cuts, a few increases, still ending in .99
--    and never below the unit cost.
update raw_data.products as products
set
    list_price = greatest(
        floor(
            products.list_price
            * (array[0.85, 0.90, 1.05, 1.08, 1.12])[1 + mod(pg_temp.ecom_hash('next-day:price:' || products.product_id), 5)::int]
        ) + 0.99,
        products.unit_cost
    ),
    updated_at = timestamp '2025-01-01 08:00:00'
        + make_interval(mins => mod(pg_temp.ecom_hash('next-day:price-time:' || products.product_id), 120)::int)
from (
    select product_id
    from raw_data.products
    where is_active
        and name not like '% Smart Thermostat Pro'
    order by pg_temp.ecom_hash('next-day:price-pick:' || product_id), product_id
    limit 5
) as chosen
where products.product_id = chosen.product_id
    and products.updated_at < timestamp '2025-01-01 00:00:00';

-- 3. Twenty-five customers change segment (a consumer starts a business, a small business grows,
--    a corporate account shrinks).
update raw_data.customers as customers
set
    segment = case customers.segment
        when 'consumer' then 'small_business'
        when 'small_business' then 'corporate'
        else 'small_business'
    end,
    updated_at = timestamp '2025-01-01 09:00:00'
        + make_interval(secs => mod(pg_temp.ecom_hash('next-day:segment-time:' || customers.customer_id), 32400))
from (
    select customer_id
    from raw_data.customers
    where created_at < timestamp '2025-01-01 00:00:00'
    order by pg_temp.ecom_hash('next-day:segment:' || customer_id), customer_id
    limit 25
) as chosen
where customers.customer_id = chosen.customer_id
    and customers.updated_at < timestamp '2025-01-01 00:00:00';

-- 3b. Three other customers move to another city of their state (Houston -> Austin, ...) and keep
--     their segment. They are chosen among the customers of states with two or more cities in
--     03_customers.sql, by their id and state (never changed), leaving out the segment changers.
update raw_data.customers as customers
set
    city = moves.new_city,
    updated_at = timestamp '2025-01-01 10:00:00'
        + make_interval(secs => mod(pg_temp.ecom_hash('next-day:city-time:' || customers.customer_id), 28800))
from (
    values
        ('TX', 'Houston', 'Austin'), ('TX', 'Austin', 'Dallas'), ('TX', 'Dallas', 'San Antonio'),
        ('TX', 'San Antonio', 'Houston'),
        ('CA', 'Los Angeles', 'San Diego'), ('CA', 'San Diego', 'San Francisco'),
        ('CA', 'San Francisco', 'Los Angeles'),
        ('FL', 'Jacksonville', 'Miami'), ('FL', 'Miami', 'Orlando'), ('FL', 'Orlando', 'Jacksonville'),
        ('PA', 'Philadelphia', 'Pittsburgh'), ('PA', 'Pittsburgh', 'Philadelphia'),
        ('NC', 'Charlotte', 'Raleigh'), ('NC', 'Raleigh', 'Charlotte')
) as moves (state, old_city, new_city),
(
    select customer_id
    from raw_data.customers
    where created_at < timestamp '2025-01-01 00:00:00'
        and state in ('TX', 'CA', 'FL', 'PA', 'NC')
        and customer_id not in (
            -- the segment changers of step 3 (the same pick)
            select customer_id
            from raw_data.customers
            where created_at < timestamp '2025-01-01 00:00:00'
            order by pg_temp.ecom_hash('next-day:segment:' || customer_id), customer_id
            limit 25
        )
    order by pg_temp.ecom_hash('next-day:city:' || customer_id), customer_id
    limit 3
) as chosen
where customers.customer_id = chosen.customer_id
    and customers.state = moves.state
    and customers.city = moves.old_city
    and customers.updated_at < timestamp '2025-01-01 00:00:00';

-- 4. The day's orders and their lines, built once in a temporary table.
drop table if exists pg_temp.next_day_lines;

create temporary table next_day_lines as

with

settings as (
    select 60 * coalesce(nullif(current_setting('ecom.scale', true), ''), '1')::int as order_count
),

-- the base data ends where the batch starts: the ids continue from there, and stay the same
-- when the batch runs again
base as (
    select
        (select max(order_id) from raw_data.orders where order_date < timestamp '2025-01-01 00:00:00') as max_order_id,
        (
            select max(order_items.order_item_id)
            from raw_data.order_items
            inner join raw_data.orders
                on order_items.order_id = orders.order_id
            where orders.order_date < timestamp '2025-01-01 00:00:00'
        ) as max_order_item_id
),

active_products as (
    select
        array_agg(product_id order by product_id) as product_ids,
        count(*)::int as product_count
    from raw_data.products
    where is_active
),

new_orders as (
    select
        base.max_order_id + order_number as order_id,
        order_number,
        settings.order_count,
        base.max_order_id,
        base.max_order_item_id,
        mod(pg_temp.ecom_hash('next-day:order:' || order_number || ':lines'), 4)::int + 1 as line_count,
        mod(pg_temp.ecom_hash('next-day:order:' || order_number || ':status'), 100) as status_draw,
        -- the customer of a random order from the last third of the history: regular customers
        -- are more likely to come back
        base.max_order_id - mod(pg_temp.ecom_hash('next-day:order:' || order_number || ':customer'), base.max_order_id / 3)
            as sample_order_id
    from settings
    cross join base
    cross join generate_series(1, settings.order_count) as order_number
),

numbered_orders as (
    select
        new_orders.*,
        orders.customer_id,
        customers.segment,
        -- spread over the day in id order: order k of n starts in slot k of the day
        timestamp '2025-01-01 00:00:00'
            + make_interval(secs => ((order_number - 1) * 86400 / order_count
                + mod(pg_temp.ecom_hash('next-day:order:' || order_number || ':second'), 86400 / order_count))::int)
            as order_date,
        sum(line_count) over (order by new_orders.order_id) - line_count as item_id_offset
    from new_orders
    inner join raw_data.orders as orders
        on new_orders.sample_order_id = orders.order_id
    inner join raw_data.customers as customers
        on orders.customer_id = customers.customer_id
),

lines as (
    select
        numbered_orders.*,
        line_number,
        numbered_orders.max_order_item_id + numbered_orders.item_id_offset + line_number as order_item_id,
        -- consecutive entries of the active product list: never the same product twice
        active_products.product_ids[
            1 + mod(pg_temp.ecom_hash('next-day:order:' || order_number || ':first-product') + line_number, active_products.product_count)::int
        ] as product_id,
        case
            when mod(pg_temp.ecom_hash('next-day:line:' || order_number || ':' || line_number || ':quantity'), 100) < 80 then 1
            else 2
        end
        * case numbered_orders.segment when 'corporate' then 3 when 'small_business' then 2 else 1 end as quantity,
        case
            when mod(pg_temp.ecom_hash('next-day:line:' || order_number || ':' || line_number || ':discount'), 100) < 10 then 10
            else 0
        end as discount_pct
    from numbered_orders
    cross join active_products
    cross join generate_series(1, numbered_orders.line_count) as line_number
),

final as (
    select
        lines.order_id,
        lines.customer_id,
        lines.order_date,
        lines.status_draw,
        lines.order_item_id::int as order_item_id,
        lines.product_id,
        lines.quantity,
        -- the prices of the day, after the price changes above
        products.list_price as unit_price,
        products.unit_cost,
        round(lines.quantity * products.list_price * lines.discount_pct / 100, 2) as discount_amount,
        lines.quantity * products.list_price
            - round(lines.quantity * products.list_price * lines.discount_pct / 100, 2) as line_total
    from lines
    inner join raw_data.products as products
        on lines.product_id = products.product_id
)

select * from final;

insert into raw_data.orders (
    order_id,
    customer_id,
    order_date,
    status,
    campaign_id,
    discount_amount,
    total_amount,
    updated_at
)
select
    order_id,
    customer_id,
    order_date,
    -- one day old at most: mostly pending, some already shipped or cancelled
    case when status_draw < 65 then 'pending' when status_draw < 90 then 'shipped' else 'cancelled' end as status,
    null::integer as campaign_id,   -- no campaign of the seed runs in 2025
    sum(discount_amount) as discount_amount,
    sum(line_total) as total_amount,
    case
        when status_draw < 65 then order_date
        else least(order_date + make_interval(mins => 30 + status_draw::int), timestamp '2025-01-01 23:59:59')
    end as updated_at
from next_day_lines
group by order_id, customer_id, order_date, status_draw
on conflict (order_id) do nothing;

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
select
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    unit_cost,
    discount_amount,
    line_total
from next_day_lines
on conflict (order_item_id) do nothing;

drop table if exists pg_temp.next_day_lines;

analyze raw_data.products;
analyze raw_data.customers;
analyze raw_data.orders;
analyze raw_data.order_items;
