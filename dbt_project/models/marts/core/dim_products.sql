-- Dimension: one row per product in the catalogue, with its category (enriched from the
-- product_categories seed), current prices and margins.

with

products as (
    select * from {{ ref('stg_ecommerce__products') }}
),

categories as (
    select * from {{ ref('product_categories') }}
),

joined as (
    select
        products.*,
        categories.category_description,
        cast(categories.target_margin_pct as numeric(5, 2)) as category_target_margin_pct

    from products
    -- an inner join would silently drop a product with an unknown category; the
    -- relationships test on stg_ecommerce__products.category catches that case instead
    left join categories
        on products.category = categories.category
),

final as (
    select
        {{ ecom_utils.generate_surrogate_key(['product_id']) }} as product_key,
        product_id,
        product_name,
        category,
        category_description,
        brand,
        list_price,
        unit_cost,
        unit_margin,
        profit_margin_pct,
        category_target_margin_pct,
        -- positive = the product earns more (per unit at list price) than its category's target
        profit_margin_pct - category_target_margin_pct as margin_vs_target_pct,
        is_active,
        created_at,
        updated_at

    from joined
)

select * from final
