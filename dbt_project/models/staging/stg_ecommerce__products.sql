-- Staging: one row per product, renamed and typed, plus its unit margin.

with

source as (
    select * from {{ source('ecommerce', 'products') }}
),

renamed as (
    select
        -- keys
        cast(product_id as integer) as product_id,
        sku,

        -- descriptive attributes; `name` alone is ambiguous once joined to other tables
        trim(name) as product_name,
        trim(category) as category,
        trim(brand) as brand,

        -- current catalogue prices (order lines keep the price at the time of the order)
        cast(list_price as numeric(10, 2)) as list_price,
        cast(unit_cost as numeric(10, 2)) as unit_cost,

        -- flags and timestamps
        cast(is_active as boolean) as is_active,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        _loaded_at as loaded_at

    from source
),

with_margin as (
    select
        *,
        list_price - unit_cost as unit_margin,
        -- margin as a percentage of the selling price; nullif() turns a (theoretical) zero
        -- price into null instead of a division-by-zero error
        round(100.0 * (list_price - unit_cost) / nullif(list_price, 0), 2) as profit_margin_pct

    from renamed
),

final as (
    select
        product_id,
        sku,
        product_name,
        category,
        brand,
        list_price,
        unit_cost,
        unit_margin,
        profit_margin_pct,
        is_active,
        created_at,
        updated_at,
        loaded_at

    from with_margin
)

select * from final
