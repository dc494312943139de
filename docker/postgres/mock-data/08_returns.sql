-- 08_returns.sql: the returns desk, one row per returned order line (about 8,700 x scale).
--
-- Every "random" choice is an md5 hash of a fixed text (see 02_products.sql), so every
-- PostgreSQL version builds exactly the same returns.
--
-- The story the returns tell:
--   * Every line of every order with status 'returned' came back, in one parcel: all lines of an
--     order share returned_at, 2 to 30 days after the order, and never after the order reached
--     the status 'returned' (orders.updated_at), so never after the last day of the data.
--   * The reason is the customer's, per line, and depends on the category: clothing comes back
--     in the wrong size, electronics and home products damaged or not as described, books
--     mostly because the customer changed their mind. 'wrong size' is a clothing reason only.
--   * refund_amount is the line total, or half of it for 'changed mind' (the shop keeps a
--     restocking fee on returns that are nobody's fault but the customer's).
--   * return_id follows returned_at, like an auto-increment key.

-- JIT compilation costs more than it saves for these one-off queries (seconds on PostgreSQL 15)
set jit = off;

-- ecom_draw(digest, n): the n-th (1..4) 32-bit slice of an md5 digest, a whole number in
-- [0, 2^32). One md5 per row gives four independent draws (md5 is the expensive part).
create or replace function pg_temp.ecom_draw(digest text, part int) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(digest, 8 * part - 7, 8))::bit(32)::bigint $fn$;

insert into raw_data.returns (
    return_id,
    order_id,
    order_item_id,
    product_id,
    returned_at,
    return_reason,
    refund_amount
)

with

returned_orders as (
    select
        order_id,
        order_date,
        -- the parcel arrives 2 to 30 days after the order, and before the status changed:
        -- the latest possible arrival, in seconds after order_date + 2 days
        greatest(
            extract(epoch from least(updated_at, order_date + interval '30 days') - (order_date + interval '2 days')),
            0
        )::bigint as arrival_window_seconds,
        md5('return:' || order_id) as digest
    from raw_data.orders
    where status = 'returned'
),

parcels as (
    select
        order_id,
        order_date
            + interval '2 days'
            + make_interval(secs => (pg_temp.ecom_draw(digest, 1) * arrival_window_seconds) / 4294967296)
            as returned_at
    from returned_orders
),

returned_lines as (
    select
        parcels.order_id,
        parcels.returned_at,
        order_items.order_item_id,
        order_items.product_id,
        order_items.line_total,
        products.category,
        mod(pg_temp.ecom_draw(md5('return-line:' || order_items.order_item_id), 1), 100)::int as reason_draw
    from parcels
    inner join raw_data.order_items
        on parcels.order_id = order_items.order_id
    inner join raw_data.products
        on order_items.product_id = products.product_id
),

reasons as (
    select
        returned_lines.*,
        -- cumulative percent of damaged, wrong size, not as described and changed mind by category
        -- (the rest arrived late); equal bounds leave a reason out
        (array['damaged', 'wrong size', 'not as described', 'changed mind', 'arrived late'])[
            1 + width_bucket(
                reason_draw,
                case category
                    when 'Clothing' then array[10, 55, 70, 90]
                    when 'Electronics' then array[35, 35, 65, 85]
                    when 'Home & Garden' then array[40, 40, 65, 85]
                    when 'Books' then array[20, 20, 35, 80]
                    else array[30, 30, 55, 85]
                end
            )
        ] as return_reason
    from returned_lines
),

final as (
    select
        row_number() over (order by returned_at, order_item_id)::int as return_id,
        order_id,
        order_item_id,
        product_id,
        returned_at,
        return_reason,
        case
            when return_reason = 'changed mind' then round(line_total / 2, 2)
            else line_total
        end::numeric(10, 2) as refund_amount
    from reasons
)

select * from final
order by return_id;

-- Keys and statistics after the bulk load (as 06_constraints.sql does for the other tables).
alter table raw_data.returns
    add constraint returns_order_id_fkey
    foreign key (order_id) references raw_data.orders (order_id);

alter table raw_data.returns
    add constraint returns_order_item_id_fkey
    foreign key (order_item_id) references raw_data.order_items (order_item_id);

alter table raw_data.returns
    add constraint returns_product_id_fkey
    foreign key (product_id) references raw_data.products (product_id);

create index returns_order_id_idx on raw_data.returns (order_id);

analyze raw_data.returns;
