-- 07_product_reviews.sql: the shop's review system, a few thousand product reviews (about 3,000 x
-- scale: they come from the order lines, so they grow with the scale factor).
--
-- Every "random" choice is an md5 hash of a fixed text (see 02_products.sql), so every
-- PostgreSQL version builds exactly the same reviews.
--
-- The story the reviews tell:
--   * A customer reviews a product they received: the first completed or returned order of that
--     customer that contains the product. About 1 in 30 such (customer, product) pairs gets a
--     review, so a customer reviews a product at most once.
--   * The review comes 3 to 45 days after the order, never after the last order day of the
--     data (a review dated later is not written yet).
--   * Ratings lean positive, as on every shop; some products are rated worse than others, and a
--     customer who sent the product back rarely gives it more than 3 stars.
--   * review_id follows reviewed_at, like an auto-increment key.

-- JIT compilation costs more than it saves for these one-off queries (seconds on PostgreSQL 15)
set jit = off;

-- ecom_hash(text): a whole number in [0, 2^32) from the first 8 hex digits of the md5.
create or replace function pg_temp.ecom_hash(seed text) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(md5(seed), 1, 8))::bit(32)::bigint $fn$;

-- ecom_draw(digest, n): the n-th (1..4) 32-bit slice of an md5 digest, a whole number in
-- [0, 2^32). One md5 per row gives four independent draws (md5 is the expensive part).
create or replace function pg_temp.ecom_draw(digest text, part int) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(digest, 8 * part - 7, 8))::bit(32)::bigint $fn$;

insert into raw_data.product_reviews (
    review_id,
    product_id,
    customer_id,
    rating,
    review_title,
    reviewed_at
)

with

-- the last day of the data: nobody has written a review dated after it
data_end as (
    select max(order_date)::date + 1 as first_day_after
    from raw_data.orders
),

-- what a customer received: the lines of completed and returned orders
received as (
    select
        orders.customer_id,
        order_items.product_id,
        orders.order_date,
        orders.status = 'returned' as was_returned,
        orders.order_id
    from raw_data.orders
    inner join raw_data.order_items
        on orders.order_id = order_items.order_id
    where orders.status in ('completed', 'returned')
),

-- one candidate review per (customer, product): the first order that brought it
first_receipts as (
    select distinct on (customer_id, product_id)
        customer_id,
        product_id,
        order_date,
        was_returned
    from received
    order by customer_id, product_id, order_date, order_id
),

drawn as materialized (
    select
        first_receipts.*,
        md5('review:' || customer_id || ':' || product_id) as digest
    from first_receipts
),

reviewed as (
    select
        drawn.customer_id,
        drawn.product_id,
        drawn.was_returned,
        drawn.digest,
        -- 3 to 45 days after the order, at any second of the day
        drawn.order_date
            + make_interval(days => 3 + mod(pg_temp.ecom_draw(drawn.digest, 2), 43)::int)
            + make_interval(secs => mod(pg_temp.ecom_draw(drawn.digest, 3), 86400))
            as reviewed_at,
        -- how well the product is liked: 0 = loved, 1 = liked, 2 = mixed
        mod(pg_temp.ecom_hash('product:' || drawn.product_id || ':quality'), 3)::int as quality,
        mod(pg_temp.ecom_draw(drawn.digest, 4), 100)::int as rating_draw
    from drawn
    -- about 1 in 30 pairs is reviewed
    where mod(pg_temp.ecom_draw(drawn.digest, 1), 30) = 0
),

rated as (
    select
        reviewed.*,
        -- cumulative percent of 5, 4, 3 and 2 stars (the rest is 1 star)
        case
            when was_returned then array[5, 15, 35, 60]
            when quality = 0 then array[55, 85, 94, 97]
            when quality = 1 then array[40, 75, 88, 94]
            else array[25, 55, 75, 87]
        end as star_shares
    from reviewed
    cross join data_end
    where reviewed.reviewed_at < data_end.first_day_after
),

starred as (
    select
        rated.*,
        5 - width_bucket(rating_draw, star_shares) as rating
    from rated
),

final as (
    select
        row_number() over (order by reviewed_at, customer_id, product_id)::int as review_id,
        product_id,
        customer_id,
        rating,
        -- a headline that fits the stars, picked by a draw
        (case rating
            when 5 then array['Absolutely love it', 'Exceeded my expectations', 'Perfect', 'Would buy again']
            when 4 then array['Very good', 'Great value for money', 'Happy with it', 'Does the job well']
            when 3 then array['It is okay', 'Average', 'Decent for the price', 'Mixed feelings']
            when 2 then array['Disappointing', 'Not great', 'Expected more', 'Feels cheap']
            else array['Terrible', 'Broke within a week', 'Do not buy', 'Waste of money']
        end)[1 + mod(pg_temp.ecom_hash('review-title:' || digest), 4)::int] as review_title,
        reviewed_at
    from starred
)

select * from final
order by review_id;

-- Keys and statistics after the bulk load (as 06_constraints.sql does for the other tables).
alter table raw_data.product_reviews
    add constraint product_reviews_product_id_fkey
    foreign key (product_id) references raw_data.products (product_id);

alter table raw_data.product_reviews
    add constraint product_reviews_customer_id_fkey
    foreign key (customer_id) references raw_data.customers (customer_id);

create index product_reviews_product_id_idx on raw_data.product_reviews (product_id);

analyze raw_data.product_reviews;
