-- 04_orders.sql: 50,000 x scale orders placed between 2022-01-01 and 2024-12-31.
--
-- Every "random" choice is an md5 hash of a fixed text (see 02_products.sql), so every
-- PostgreSQL version builds exactly the same orders.
--
-- How the orders are built (the story the data tells):
--   1. Every calendar day gets a weight: November/December peaks, Black Friday and Cyber Monday
--      spikes, busier weekends, and a lift while a marketing campaign runs.
--   2. Every customer gets a share of the orders: a few loyal customers order a lot, most order
--      a few times, some never (skewed, like real shops). Business customers order more.
--      Some customers churn: they stop ordering after their "lifetime".
--      The shop grows because more customers sign up every year (03_customers.sql).
--   3. Each of a customer's orders falls on a day between the sign-up (or 2022-01-01) and the
--      churn day, drawn with the day weights, at a time of day that peaks in the evening.
--   4. order_id follows the order time, like an auto-increment key.
--   5. Status depends on the order's age on 2024-12-31: recent orders are still pending or
--      shipped; older ones are completed, some cancelled or returned.
--   6. While a campaign runs, some orders are attributed to it (campaign_id); most orders have
--      no campaign.
--
-- discount_amount and total_amount are filled in by 05_order_items.sql, from the order lines:
-- the header totals are always the sum of the lines.

-- JIT compilation costs more than it saves for these one-off queries (seconds on PostgreSQL 15)
set jit = off;
-- room for the sorts and hashes of 1.5 million rows (scale 10) in memory; this session only
set work_mem = '128MB';

-- ecom_draw(digest, n): the n-th (1..4) 32-bit slice of an md5 digest, a whole number in
-- [0, 2^32). One md5 per row gives four independent draws (md5 is the expensive part).
create or replace function pg_temp.ecom_draw(digest text, part int) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(digest, 8 * part - 7, 8))::bit(32)::bigint $fn$;

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

with

settings as (
    select 50000 * coalesce(nullif(current_setting('ecom.scale', true), ''), '1')::int as order_count
),

-- The campaigns of dbt_project/seeds/campaign_metadata.csv (id and dates copied from the seed;
-- tests/test_mock_data.py checks that they agree). attribution_pct: the share of the orders
-- placed during the campaign that the campaign gets credit for.
campaigns (campaign_id, start_date, end_date, attribution_pct) as (
    values
        (1, date '2022-01-01', date '2022-01-31', 30),
        (2, date '2022-03-15', date '2022-05-15', 25),
        (3, date '2022-08-01', date '2022-09-15', 30),
        (4, date '2022-11-15', date '2022-12-31', 25),
        (5, date '2023-02-01', date '2023-06-30', 20),
        (6, date '2023-06-01', date '2023-08-31', 15),
        (7, date '2023-11-01', date '2023-11-30', 35),
        (8, date '2024-01-01', date '2024-12-31', 20),
        (9, date '2024-03-01', date '2024-04-30', 25),
        (10, date '2024-11-01', date '2024-12-31', 25)
),

calendar as (
    select
        calendar_day as order_day,
        (calendar_day - date '2022-01-01') + 1 as day_number,
        extract(month from calendar_day)::int as month_number,
        extract(isodow from calendar_day)::int as iso_weekday,
        -- Thanksgiving: the fourth Thursday of November
        make_date(extract(year from calendar_day)::int, 11, 1)
            + mod(4 - extract(isodow from make_date(extract(year from calendar_day)::int, 11, 1))::int + 7, 7)
            + 21 as thanksgiving
    -- date + integer is a date: no time zone involved (generate_series over dates would give
    -- timestamptz values that depend on the TimeZone setting)
    from generate_series(0, date '2024-12-31' - date '2022-01-01') as day_offset
    cross join lateral (select date '2022-01-01' + day_offset as calendar_day) as days
),

day_weights as (
    select
        calendar.order_day,
        calendar.day_number,
        -- all weights are whole numbers (percent), multiplied then divided: no floating point.
        -- Orders per active customer fall a little every year, as the customer base grows
        -- beyond the early enthusiasts (the total still grows: more customers every year).
        (array[122, 100, 86])[extract(year from order_day)::int - 2021]::bigint
            * (array[88, 82, 92, 93, 96, 94, 93, 98, 96, 104, 138, 152])[month_number]
            * (array[108, 98, 97, 97, 92, 103, 115])[iso_weekday]
            * case
                when order_day = thanksgiving + 1 then 340          -- Black Friday
                when order_day = thanksgiving + 4 then 240          -- Cyber Monday
                when order_day in (thanksgiving + 2, thanksgiving + 3) then 160
                when month_number = 12 and extract(day from order_day) = 24 then 70
                when month_number = 12 and extract(day from order_day) = 25 then 45
                else 100
            end
            * (100 + 12 * (
                select count(*) from campaigns
                where calendar.order_day between campaigns.start_date and campaigns.end_date
            ))
            / 10000000 as weight
    from calendar
),

cumulative_days as (
    select
        day_number,
        order_day,
        sum(weight) over (order by day_number)::bigint as cumulative_weight
    from day_weights
),

day_lookup as (
    select
        array_agg(order_day order by day_number) as days,
        array_agg(cumulative_weight order by day_number) as cumulative_weights,
        -- cumulative weight before day n is cumulative_weights[n - 1]; prepend 0 for day 1
        array[0::bigint] || array_agg(cumulative_weight order by day_number) as weight_before
    from cumulative_days
),

-- the campaigns running on each day (a few days have two or three)
day_campaigns as (
    select
        calendar.order_day,
        array_agg(campaigns.campaign_id order by campaigns.campaign_id) as campaign_ids,
        array_agg(campaigns.attribution_pct order by campaigns.campaign_id) as attribution_pcts
    from calendar
    inner join campaigns
        on calendar.order_day between campaigns.start_date and campaigns.end_date
    group by 1
),

-- per customer: how active (tier weight) and for how long (first and last possible order day)
customer_draws as materialized (
    select
        customer_id,
        created_at,
        segment,
        md5('customer:' || customer_id || ':orders') as digest
    from raw_data.customers
),

customer_plans as (
    select
        customer_id,
        created_at,
        -- activity tiers: a few loyal customers (30), regulars (9), occasional (3), rare (1)
        case
            when segment = 'corporate' then
                case when activity_draw < 20 then 30 when activity_draw < 55 then 9 else 3 end
            when segment = 'small_business' then
                case when activity_draw < 10 then 30 when activity_draw < 35 then 9 when activity_draw < 75 then 3 else 1 end
            else
                case when activity_draw < 4 then 30 when activity_draw < 16 then 9 when activity_draw < 50 then 3 else 1 end
        end as activity_weight,
        greatest(created_at::date, date '2022-01-01') as first_possible_day,
        case
            -- 45 percent stay customers until the end of the data
            when churn_draw < 45 then date '2024-12-31'
            -- the others stop ordering 90 to 1,089 days after signing up
            else least(created_at::date + 90 + lifetime_draw, date '2024-12-31')
        end as last_possible_day
    from customer_draws
    cross join lateral (
        select
            mod(pg_temp.ecom_draw(digest, 1), 100)::int as activity_draw,
            mod(pg_temp.ecom_draw(digest, 2), 100)::int as churn_draw,
            mod(pg_temp.ecom_draw(digest, 3), 1000)::int as lifetime_draw
    ) as draws
),

customer_spans as (
    select
        customer_plans.*,
        (first_possible_day - date '2022-01-01') + 1 as first_day_number,
        (last_possible_day - date '2022-01-01') + 1 as last_day_number
    from customer_plans
),

-- materialized: the day arrays stay here instead of travelling through the sorts below
customer_weights as materialized (
    select
        customer_id,
        created_at,
        first_day_number,
        last_day_number,
        -- the day-weighted length of the active period, and where it starts
        day_lookup.weight_before[first_day_number] as span_start,
        case
            when last_day_number < first_day_number then 0
            else day_lookup.cumulative_weights[last_day_number] - day_lookup.weight_before[first_day_number]
        end as span_weight,
        activity_weight
    from customer_spans
    cross join day_lookup
),

customer_running as (
    select
        customer_weights.*,
        -- expected orders ~ activity x the (day-weighted) length of the active period;
        -- churned before 2022 -> no orders
        activity_weight * span_weight as customer_weight,
        sum(activity_weight * span_weight) over (order by customer_id) as running_weight,
        sum(activity_weight * span_weight) over () as total_weight
    from customer_weights
),

-- exact order counts: customer c gets floor(N x running_c / total) - floor(N x running_(c-1) / total);
-- the counts add up to exactly N (div() is exact integer division on numeric)
customer_order_counts as (
    select
        customer_running.*,
        div(settings.order_count::numeric * running_weight, total_weight)
            - div(settings.order_count::numeric * (running_weight - customer_weight), total_weight)
            as order_count
    from customer_running
    cross join settings
),

customer_orders as materialized (
    select
        customer_id,
        created_at,
        order_number,
        span_start,
        span_weight,
        md5('order:' || customer_id || ':' || order_number) as digest
    from customer_order_counts
    cross join generate_series(1, customer_order_counts.order_count::int) as order_number
),

-- time of day: few orders at night, most in the evening (running totals of weights per hour 0..23)
hour_lookup as (
    select array[2, 3, 4, 5, 6, 8, 11, 16, 22, 29, 37, 45, 54, 62, 70, 78, 86, 95, 106, 119, 133, 145, 153, 157]::bigint[]
        as cumulative_hour_weights
),

placed as (
    select
        customer_orders.customer_id,
        customer_orders.created_at as signed_up_at,
        customer_orders.order_number,
        customer_orders.digest,
        -- the day: a uniform draw inside the customer's active period, in day-weight units
        -- (integer arithmetic only); width_bucket finds the day whose range holds it
        day_lookup.days[
            width_bucket(
                span_start + (pg_temp.ecom_draw(digest, 1) * span_weight) / 4294967296,
                day_lookup.cumulative_weights
            ) + 1
        ]
            + make_interval(
                hours => width_bucket(mod(pg_temp.ecom_draw(digest, 2), 157), hour_lookup.cumulative_hour_weights),
                secs => mod(pg_temp.ecom_draw(digest, 3), 3600)
            ) as drawn_at
    from customer_orders
    cross join day_lookup
    cross join hour_lookup
),

-- an order on the sign-up day comes 5 to 59 minutes after the sign-up
-- (sign-ups end at 21:00, so this never crosses midnight)
timed as materialized (
    select
        customer_id,
        order_number,
        case
            when drawn_at < signed_up_at + interval '5 minutes'
                then signed_up_at + make_interval(mins => 5 + mod(pg_temp.ecom_draw(digest, 4), 55)::int)
            else drawn_at
        end as ordered_at
    from placed
),

numbered as materialized (
    select
        order_id,
        customer_id,
        ordered_at,
        date '2024-12-31' - ordered_at::date as age_in_days,
        md5('order:' || order_id) as digest
    from (
        select
            row_number() over (order by ordered_at, customer_id, order_number)::int as order_id,
            customer_id,
            ordered_at
        from timed
    ) as ordered
),

with_status as (
    select
        numbered.*,
        case
            when age_in_days = 0 then
                case when status_draw < 80 then 'pending' when status_draw < 95 then 'shipped' else 'cancelled' end
            when age_in_days <= 2 then
                case when status_draw < 45 then 'pending' when status_draw < 93 then 'shipped' else 'cancelled' end
            when age_in_days <= 9 then
                case when status_draw < 3 then 'pending' when status_draw < 63 then 'shipped'
                     when status_draw < 95 then 'completed' else 'cancelled' end
            when age_in_days <= 20 then
                case when status_draw < 15 then 'shipped' when status_draw < 90 then 'completed'
                     when status_draw < 95 then 'returned' else 'cancelled' end
            else
                case when status_draw < 89 then 'completed' when status_draw < 95 then 'returned' else 'cancelled' end
        end as status
    from numbered
    cross join lateral (
        select mod(pg_temp.ecom_draw(numbered.digest, 1), 100)::int as status_draw
    ) as draws
),

with_campaign as (
    select
        with_status.*,
        -- if several campaigns run that day, one of them (chosen by a draw) is the candidate;
        -- it gets the credit for attribution_pct percent of the orders
        case
            when mod(pg_temp.ecom_draw(with_status.digest, 3), 100)
                < day_campaigns.attribution_pcts[1 + mod(pg_temp.ecom_draw(with_status.digest, 2), cardinality(day_campaigns.campaign_ids))::int]
                then day_campaigns.campaign_ids[1 + mod(pg_temp.ecom_draw(with_status.digest, 2), cardinality(day_campaigns.campaign_ids))::int]
        end as campaign_id
    from with_status
    left join day_campaigns
        on with_status.ordered_at::date = day_campaigns.order_day
),

final as (
    select
        order_id,
        customer_id,
        ordered_at as order_date,
        status,
        campaign_id,
        0 as discount_amount,   -- filled in by 05_order_items.sql
        0 as total_amount,      -- filled in by 05_order_items.sql
        -- the last change to the order: when it reached its current status;
        -- never after the last moment of the base data
        least(
            ordered_at + case status
                when 'pending' then interval '0 seconds'
                when 'shipped' then make_interval(secs => 86400 + mod(pg_temp.ecom_draw(digest, 4), 129600))
                when 'completed' then make_interval(secs => 259200 + mod(pg_temp.ecom_draw(digest, 4), 432000))
                when 'cancelled' then make_interval(secs => 600 + mod(pg_temp.ecom_draw(digest, 4), 172800))
                when 'returned' then make_interval(secs => 1296000 + mod(pg_temp.ecom_draw(digest, 4), 2160000))
            end,
            timestamp '2024-12-31 23:59:59'
        ) as updated_at
    from with_campaign
)

select * from final;
