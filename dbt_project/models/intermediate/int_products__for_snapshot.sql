-- Intermediate (ephemeral): the product columns whose history product_snapshot keeps:
-- the attributes that change over a product's life (price, cost, category, active flag),
-- plus updated_at. Load metadata is left out: it changes on every load, the product does not.

with

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

final as (
    select
        product_id,
        product_name,
        category,
        brand,
        list_price,
        unit_cost,
        is_active,
        updated_at

    from products
)

select * from final
