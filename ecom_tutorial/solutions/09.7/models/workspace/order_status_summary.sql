with

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        order_status,
        count(*) as orders,
        sum(order_total) as revenue
    from orders
    group by order_status
)

select * from final
