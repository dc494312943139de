with

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        cast(date_trunc('month', date_key) as date) as month_start_date,
        sum(recognized_revenue) as revenue,
        count(*) filter (where is_revenue) as orders

    from orders
    group by 1
)

select * from final
