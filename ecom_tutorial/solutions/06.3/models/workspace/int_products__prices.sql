-- Intermediate (ephemeral): the product columns whose history product_prices_snapshot keeps.
-- A snapshot stores every version of every column forever: pick the few worth keeping.

{{ config(materialized='ephemeral') }}

with

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

final as (
    select
        product_id,
        product_name,
        category,
        list_price,
        unit_cost

    from products
)

select * from final
