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
        {{ to_decimal('categories.target_margin_pct', precision=5) }} as category_target_margin_pct

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
        sku,
        product_name,
        category,
        category_description,
        brand,
        list_price,
        unit_cost,
        -- to_decimal() pins the types the contract declares (why: macros/to_decimal.sql).
        -- unit_margin fits numeric(10, 2) because 0 <= unit_cost <= list_price; the margins
        -- are percentages of the list price, 0-100 (accepted_range test in the YAML)
        {{ to_decimal('unit_margin', precision=10) }} as unit_margin,
        {{ to_decimal('profit_margin_pct', precision=5) }} as profit_margin_pct,
        category_target_margin_pct,
        -- positive = the product earns more (per unit at list price) than its category's target
        {{ to_decimal('profit_margin_pct - category_target_margin_pct', precision=5) }} as margin_vs_target_pct,
        is_active,
        created_at,
        updated_at

    from joined
)

select * from final
