-- Analytics: one row per customer, with RFM scores (recency, frequency, monetary), an overall
-- rfm_score, a named segment and lifetime value, all measured up to the `as_of_date` variable.
-- Answers "who are our best customers, and whom are we losing?"
--
-- Why fixed thresholds and not quintiles (ntile(5))? Quintiles rank customers against each
-- other: scores move whenever other customers change, and ties are split at random. Fixed
-- business thresholds mean a score always says the same thing ("ordered in the last 30 days"),
-- and are easy to test at their boundaries (see the unit tests in customer_analytics.yml).
-- The rules are documented in the docs block `rfm_scoring` (customer_analytics.md).
--
-- Customers without any revenue order stay in the table (it is one row per customer) with
-- null scores and the segment 'No purchases': a score of 1 would mix them up with customers
-- who did buy, long ago or little.

with

customers as (
    select * from {{ ref('dim_customers') }}
),

scored as (
    select
        *,

        -- R: how recently did they buy? fewer days since the last order = higher score
        case
            when days_since_last_order is null then null
            when days_since_last_order <= 30 then 5
            when days_since_last_order <= 90 then 4
            when days_since_last_order <= 180 then 3
            when days_since_last_order <= 365 then 2
            else 1
        end as recency_score,

        -- F: how often? number of revenue orders
        case
            when total_orders = 0 then null
            when total_orders >= 10 then 5
            when total_orders >= 6 then 4
            when total_orders >= 4 then 3
            when total_orders >= 2 then 2
            else 1
        end as frequency_score,

        -- M: how much? lifetime value in the shop's currency
        case
            when total_orders = 0 then null
            when lifetime_value >= 2000 then 5
            when lifetime_value >= 1000 then 4
            when lifetime_value >= 500 then 3
            when lifetime_value >= 200 then 2
            else 1
        end as monetary_score

    from customers
),

combined as (
    select
        *,
        -- the average of the three scores, rounded to a whole score. The sum of three
        -- integers divided by 3 never ends in .5, so there is no rounding tie to argue about.
        cast(round((recency_score + frequency_score + monetary_score) / 3.0) as integer)
            as rfm_score

    from scored
),

segmented as (
    select
        *,
        -- named segments from recency and frequency (the classic RFM grid); the first
        -- matching rule wins, so the order of the `when`s matters
        case
            when total_orders = 0 then 'No purchases'
            when recency_score >= 4 and frequency_score >= 4 then 'Champions'
            when recency_score >= 3 and frequency_score >= 3 then 'Loyal'
            when recency_score >= 4 and frequency_score = 1 then 'New'
            when recency_score >= 4 then 'Promising'
            when recency_score <= 2 and frequency_score >= 3 then 'At risk'
            when recency_score <= 2 then 'Hibernating'
            else 'Needs attention'
        end as rfm_segment

    from combined
),

final as (
    -- no cast needed for the contract (customer_analytics.yml): the columns from dim_customers
    -- arrive with the types of ITS contract, the scores are integers (a case over integer
    -- literals; rfm_score is cast) and rfm_segment is text (a case over text literals)
    select
        customer_key,
        customer_id,
        -- every customer attribute of dim_customers, so an analyst never has to join back
        first_name,
        last_name,
        customer_name,
        email,
        city,
        state,
        country,
        customer_segment,
        signed_up_at,
        signup_date,
        first_order_date,
        last_order_date,
        days_since_last_order,
        total_orders,
        average_order_value,
        lifetime_value,
        is_active,
        recency_score,
        frequency_score,
        monetary_score,
        rfm_score,
        rfm_segment

    from segmented
)

select * from final
