-- One row per campaign: how many orders it brought in.

with

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

final as (
    select
        campaign_id,
        count(*) as orders

    from orders
    where campaign_id is not null
    group by 1
)

select * from final
