-- Mart: one row per product of the catalogue, placed within its category by list price.

{{ config(materialized='table') }}

with

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

-- two windows over the same partition: each row keeps its own columns and gets a value computed
-- from the other products of its category (group by would collapse them into one row)
final as (
    select
        product_id,
        product_name,
        category,
        list_price,
        -- dense_rank: equal prices share a place and the next price takes the next place (1, 2, 2, 3),
        -- so the rank says "the n-th highest price of the category"
        dense_rank() over (partition by category order by list_price desc) as category_price_rank,
        round(list_price - avg(list_price) over (partition by category), 2) as price_vs_category_avg

    from products
)

select * from final
