-- 03_customers.sql: 10,000 x scale customers who signed up between 2021-01-01 and 2024-12-31.
--
-- Like 02_products.sql, every "random" choice is an md5 hash of a fixed text, so every
-- PostgreSQL version builds exactly the same customers.
--
-- The story the customers tell:
--   * Sign-ups grow every year (the shop is growing) and peak around the holidays.
--   * customer_id follows the sign-up order, like an auto-increment key in the source system.
--   * Segments: about 80 percent consumer, 14 percent small_business, 6 percent corporate.
--   * About 80 percent live in the United States; the rest in Canada, the UK, Germany and Australia.
--   * A quarter of the customers edited their profile later (updated_at > created_at).
--   * Sign-ups happen between 06:00 and 21:00; 04_orders.sql relies on that to place an order
--     on the sign-up day after the sign-up time without crossing midnight.

-- JIT compilation costs more than it saves for these one-off queries (seconds on PostgreSQL 15)
set jit = off;

-- ecom_draw(digest, n): the n-th (1..4) 32-bit slice of an md5 digest, a whole number in
-- [0, 2^32). One md5 per row gives four independent draws (md5 is the expensive part).
create or replace function pg_temp.ecom_draw(digest text, part int) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(digest, 8 * part - 7, 8))::bit(32)::bigint $fn$;

insert into raw_data.customers (
    customer_id,
    first_name,
    last_name,
    email,
    city,
    state,
    country,
    segment,
    created_at,
    updated_at
)

with

settings as (
    select 10000 * coalesce(nullif(current_setting('ecom.scale', true), ''), '1')::int as customer_count
),

-- one row per calendar day on which customers can sign up, with a whole-number weight:
-- +25 points per year of growth, more sign-ups in November/December and January
signup_days as (
    select
        signup_day,
        (100 + 25 * (extract(year from signup_day)::int - 2021))
            * (array[115, 100, 100, 100, 100, 95, 95, 100, 105, 110, 130, 135])[extract(month from signup_day)::int]
            / 100 as weight
    -- date + integer is a date: no time zone involved
    from generate_series(0, date '2024-12-31' - date '2021-01-01') as day_offset
    cross join lateral (select date '2021-01-01' + day_offset as signup_day) as days
),

-- running total of the weights: a uniform number in [0, total) falls into exactly one day
cumulative_days as (
    select
        signup_day,
        sum(weight) over (order by signup_day) as cumulative_weight
    from signup_days
),

day_lookup as (
    select
        array_agg(signup_day order by signup_day) as days,
        array_agg(cumulative_weight order by signup_day) as cumulative_weights,
        max(cumulative_weight) as total_weight
    from cumulative_days
),

lists as (
    select
        array['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda',
              'David', 'Elizabeth', 'William', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica',
              'Thomas', 'Sarah', 'Carlos', 'Karen', 'Daniel', 'Lisa', 'Matthew', 'Nancy',
              'Anthony', 'Sofia', 'Mark', 'Emily', 'Wei', 'Priya', 'Ahmed', 'Olivia',
              'Lucas', 'Emma', 'Noah', 'Ava', 'Diego', 'Mia', 'Kenji', 'Chloe'] as first_names,
        array['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis',
              'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson',
              'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Thompson',
              'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker',
              'Young', 'Allen', 'King', 'Wright', 'Scott', 'Nguyen', 'Patel', 'Kim', 'Chen'] as last_names,
        -- city|state|country; 32 of the 40 entries are in the United States
        array['New York|NY|United States', 'Los Angeles|CA|United States', 'Chicago|IL|United States',
              'Houston|TX|United States', 'Phoenix|AZ|United States', 'Philadelphia|PA|United States',
              'San Antonio|TX|United States', 'San Diego|CA|United States', 'Dallas|TX|United States',
              'Austin|TX|United States', 'Jacksonville|FL|United States', 'Columbus|OH|United States',
              'Charlotte|NC|United States', 'San Francisco|CA|United States', 'Seattle|WA|United States',
              'Denver|CO|United States', 'Boston|MA|United States', 'Nashville|TN|United States',
              'Portland|OR|United States', 'Las Vegas|NV|United States', 'Detroit|MI|United States',
              'Atlanta|GA|United States', 'Miami|FL|United States', 'Minneapolis|MN|United States',
              'Raleigh|NC|United States', 'Salt Lake City|UT|United States', 'Kansas City|MO|United States',
              'Pittsburgh|PA|United States', 'Orlando|FL|United States', 'Madison|WI|United States',
              'New York|NY|United States', 'Chicago|IL|United States',
              'Toronto|ON|Canada', 'Vancouver|BC|Canada', 'Montreal|QC|Canada',
              'London|England|United Kingdom', 'Manchester|England|United Kingdom',
              'Berlin|Berlin|Germany', 'Munich|Bavaria|Germany',
              'Sydney|NSW|Australia'] as locations,
        array['gmail.com', 'yahoo.com', 'outlook.com', 'icloud.com', 'hotmail.com', 'proton.me'] as email_domains,
        array['consulting', 'labs', 'group', 'supply', 'partners', 'studio'] as company_suffixes
),

signups as materialized (
    select
        signup_number,
        md5('customer-signup:' || signup_number) as digest
    from settings
    cross join generate_series(1, settings.customer_count) as signup_number
),

signup_times as materialized (
    select
        signup_number,
        -- a uniform number in [0, total_weight), scaled from a 32-bit draw without floating point;
        -- width_bucket counts the running totals <= that number: the day whose range holds it
        day_lookup.days[
            width_bucket(
                (pg_temp.ecom_draw(digest, 1) * day_lookup.total_weight) / 4294967296,
                day_lookup.cumulative_weights
            ) + 1
        ]
            + make_interval(secs => 21600 + mod(pg_temp.ecom_draw(digest, 2), 54000))
            as created_at
    from signups
    cross join day_lookup
),

numbered as materialized (
    select
        row_number() over (order by created_at, signup_number)::int as customer_id,
        created_at,
        -- two digests per customer: eight independent draws
        md5('customer:' || row_number() over (order by created_at, signup_number) || ':a') as digest_a,
        md5('customer:' || row_number() over (order by created_at, signup_number) || ':b') as digest_b
    from signup_times
),

attributes as (
    select
        numbered.customer_id,
        numbered.created_at,
        lists.first_names[1 + mod(pg_temp.ecom_draw(digest_a, 1), 40)] as first_name,
        lists.last_names[1 + mod(pg_temp.ecom_draw(digest_a, 2), 40)] as last_name,
        lists.locations[1 + mod(pg_temp.ecom_draw(digest_a, 3), 40)] as location,
        case
            when mod(pg_temp.ecom_draw(digest_a, 4), 100) < 80 then 'consumer'
            when mod(pg_temp.ecom_draw(digest_a, 4), 100) < 94 then 'small_business'
            else 'corporate'
        end as segment,
        lists.email_domains[1 + mod(pg_temp.ecom_draw(digest_b, 1), 6)] as email_domain,
        lists.company_suffixes[1 + mod(pg_temp.ecom_draw(digest_b, 1) / 100, 6)] as company_suffix,
        -- a quarter of the customers edited their profile later: 0 .. 699 days and 0 .. 10 hours later
        mod(pg_temp.ecom_draw(digest_b, 2), 100) < 25 as has_edited_profile,
        mod(pg_temp.ecom_draw(digest_b, 3), 700)::int as edited_after_days,
        mod(pg_temp.ecom_draw(digest_b, 4), 36000) as edited_after_seconds
    from numbered
    cross join lists
),

final as (
    select
        customer_id,
        first_name,
        last_name,
        -- translate() instead of lower(): lower() depends on the database locale
        translate(first_name || '.' || last_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
            || customer_id
            || '@'
            || case
                -- business customers use a company address
                when segment = 'consumer' then email_domain
                else translate(last_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
                    || '-' || company_suffix || '.com'
            end as email,
        split_part(location, '|', 1) as city,
        split_part(location, '|', 2) as state,
        split_part(location, '|', 3) as country,
        segment,
        created_at,
        case
            when has_edited_profile then least(
                created_at + make_interval(days => edited_after_days, secs => edited_after_seconds),
                timestamp '2024-12-31 23:59:59'
            )
            else created_at
        end as updated_at
    from attributes
)

select * from final
order by customer_id;
