-- Orders and revenue by day of the week, on PostgreSQL and on Spark: the day's number and name
-- come from the project's cross-engine macros (macros/cross_engine.sql).

with

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        cast({{ iso_day_of_week('date_key') }} as integer) as day_of_week,
        {{ day_name('date_key') }} as day_name,
        count(*) as orders,
        sum(recognized_revenue) as revenue

    from orders
    group by 1, 2
)

select * from final
