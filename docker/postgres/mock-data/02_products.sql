-- 02_products.sql: the product catalogue (always 100 products, whatever the scale factor).
--
-- Every "random" choice below comes from an md5 hash of a fixed text (for example
-- 'product:17:price'), never from random(): the same input gives the same catalogue on every
-- PostgreSQL version, so every learner sees the same numbers as the course material.
--
-- The story the catalogue tells:
--   * 5 categories (the names in dbt_project/seeds/product_categories.csv), 20 products each:
--     10 product types x 2 variants (a cheaper and a premium one).
--   * Prices depend on the product type; the unit cost follows the category's target margin
--     (seed column target_margin_pct) plus or minus 8 points, so list_price > unit_cost always.
--   * 85 products were listed in 2021, before the order history starts; 15 were launched during
--     2022-2024 (created_at = the day before the launch month), so they only sell after launch.
--   * 6 products were discontinued (is_active = false); updated_at is the discontinuation day
--     and they do not sell from that month on.
--   * List prices have not changed during 2022-2024 (order_items.unit_price = list_price), so
--     the first price changes arrive with next_day_batch.sql.

-- ecom_hash('some text') -> a whole number in [0, 2^32): the first 8 hex digits of the md5.
-- A temporary function (schema pg_temp) leaves nothing behind in the database.
-- JIT compilation costs more than it saves for these one-off queries (seconds on PostgreSQL 15)
set jit = off;

create or replace function pg_temp.ecom_hash(seed text) returns bigint
language sql immutable parallel safe
as $fn$ select ('x' || substr(md5(seed), 1, 8))::bit(32)::bigint $fn$;

insert into raw_data.products (
    product_id,
    sku,
    name,
    category,
    brand,
    list_price,
    unit_cost,
    is_active,
    created_at,
    updated_at
)

with

-- one row per category: its product types, typical prices (whole dollars), brands and the two
-- variant names with their price factor
catalogue (category, category_rank, target_margin_pct, product_types, base_prices, brands,
           variant_names, variant_factors, is_book) as (
    values
        (
            'Electronics', 1, 25,
            array['Wireless Earbuds', 'Bluetooth Speaker', 'Smartwatch', '4K Monitor',
                  'Mechanical Keyboard', 'Gaming Mouse', 'USB-C Hub', 'Noise-Cancelling Headphones',
                  'Tablet', 'Smart Thermostat'],
            array[79, 59, 199, 349, 109, 49, 39, 249, 429, 169],
            array['Voltix', 'Nordwave', 'Auralis', 'Kestrel Tech'],
            array['Lite', 'Pro'], array[0.75, 1.40], false
        ),
        (
            'Clothing', 2, 55,
            array['Rain Jacket', 'Wool Sweater', 'Running Shoes', 'Denim Jeans', 'Cotton T-Shirt',
                  'Hiking Boots', 'Yoga Leggings', 'Linen Shirt', 'Winter Parka', 'Baseball Cap'],
            array[89, 69, 119, 59, 19, 139, 45, 49, 189, 22],
            array['Northbound', 'Maple & Pine', 'Urban Thread', 'Solstice'],
            array['Classic', 'Premium'], array[0.85, 1.50], false
        ),
        (
            'Home & Garden', 3, 40,
            array['Chef Knife Set', 'Cast Iron Skillet', 'Garden Hose', 'Cordless Drill',
                  'Ceramic Planter', 'Standing Desk Lamp', 'Memory Foam Pillow', 'Patio Chair',
                  'Espresso Machine', 'Pruning Shears'],
            array[129, 45, 35, 99, 29, 59, 39, 149, 279, 24],
            array['Hearthstone', 'GreenLeaf', 'Casa Nova', 'Ironwood'],
            array['Essential', 'Deluxe'], array[0.80, 1.45], false
        ),
        (
            'Books', 4, 30,
            array['The Silent Harbor', 'Data for Humans', 'Cooking with Fire', 'A Brief History of Maps',
                  'The Last Orchard', 'Modern Gardening', 'Stars Over Lisbon', 'The Patient Investor',
                  'Little Fox Goes Camping', 'Mountains of the Mind'],
            array[16, 34, 29, 24, 15, 27, 14, 26, 11, 19],
            array['Lighthouse Press', 'Quarto House', 'Blue Fern Books', 'Meridian Publishing'],
            array['Paperback', 'Hardcover'], array[1.00, 1.75], true
        ),
        (
            'Toys', 5, 45,
            array['Building Blocks Set', 'Plush Bear', 'Remote Control Car', 'Wooden Train Set',
                  'Jigsaw Puzzle 1000', 'Board Game Night', 'Science Kit', 'Art Easel',
                  'Dollhouse', 'Water Blaster'],
            array[49, 19, 59, 69, 18, 35, 39, 55, 119, 24],
            array['Playmakers', 'Tiny Giants', 'BrightBox', 'Wonderloop'],
            array['Mini', 'Deluxe'], array[0.70, 1.60], false
        )
),

-- 5 categories x 10 product types x 2 variants = 100 rows
product_variants as (
    select
        catalogue.category,
        catalogue.category_rank,
        catalogue.target_margin_pct,
        type_number,
        variant_number,
        catalogue.product_types[type_number] as product_type,
        catalogue.base_prices[type_number] * catalogue.variant_factors[variant_number] as base_price,
        catalogue.brands[1 + mod(type_number - 1, 4)] as brand,
        catalogue.variant_names[variant_number] as variant_name,
        catalogue.is_book,
        -- a stable sort key that mixes the categories, so product ids look like a real catalogue
        pg_temp.ecom_hash('product:' || catalogue.category_rank || ':' || type_number || ':' || variant_number) as shuffle_key
    from catalogue
    cross join generate_series(1, 10) as type_number
    cross join generate_series(1, 2) as variant_number
),

numbered as (
    select
        *,
        row_number() over (order by shuffle_key, category_rank, type_number, variant_number)::int as product_id
    from product_variants
),

priced as (
    select
        numbered.*,
        -- price: the type's base price, +-15 percent, ending in .99
        floor(base_price * (0.85 + 0.30 * pg_temp.ecom_hash('product:' || product_id || ':price') / 4294967296.0)) + 0.99
            as list_price,
        -- margin: the category's target margin +-8 points
        target_margin_pct + mod(pg_temp.ecom_hash('product:' || product_id || ':margin'), 17) - 8
            as margin_pct,
        -- the 15 products with the smallest launch hash were launched during the order history
        row_number() over (
            order by pg_temp.ecom_hash('product:' || product_id || ':launch'), product_id
        ) as launch_rank,
        -- the 6 products with the smallest discontinue hash (among the others) were discontinued
        pg_temp.ecom_hash('product:' || product_id || ':discontinue') as discontinue_key
    from numbered
),

lifecycle as (
    select
        priced.*,
        launch_rank <= 15 as is_launched_later,
        launch_rank > 15
            and row_number() over (
                partition by launch_rank <= 15 order by discontinue_key, product_id
            ) <= 6 as is_discontinued
    from priced
),

dated as (
    select
        lifecycle.*,
        case
            when is_launched_later
                -- launched in one of the 33 months Feb 2022 .. Oct 2024; listed the day before
                then (date '2022-02-01'
                        + make_interval(months => mod(pg_temp.ecom_hash('product:' || product_id || ':launch-month'), 33)::int)
                        - interval '1 day'
                        + make_interval(secs => 32400 + mod(pg_temp.ecom_hash('product:' || product_id || ':launch-time'), 28800)))
            else (timestamp '2021-01-04 09:00:00'
                    + make_interval(days => mod(pg_temp.ecom_hash('product:' || product_id || ':listed'), 360)::int)
                    + make_interval(secs => mod(pg_temp.ecom_hash('product:' || product_id || ':listed-time'), 28800)))
        end as created_at,
        -- discontinued at the start of one of the 19 months Mar 2023 .. Sep 2024
        (date '2023-03-01'
            + make_interval(months => mod(pg_temp.ecom_hash('product:' || product_id || ':discontinue-month'), 19)::int)
            + make_interval(secs => 28800 + mod(pg_temp.ecom_hash('product:' || product_id || ':discontinue-time'), 28800)))
            as discontinued_at
    from lifecycle
),

final as (
    select
        product_id,
        -- the first three letters of the category and the id: unique, and it never changes
        -- (a product that later moves category keeps its SKU, as on a real shelf label)
        upper(left(category, 3)) || '-' || lpad(product_id::text, 4, '0') as sku,
        case
            when is_book then product_type || ' (' || variant_name || ')'
            else brand || ' ' || product_type || ' ' || variant_name
        end as name,
        category,
        brand,
        list_price::numeric(10, 2) as list_price,
        round(list_price * (100 - margin_pct) / 100, 2)::numeric(10, 2) as unit_cost,
        not is_discontinued as is_active,
        created_at,
        case
            -- discontinuing a product is the last change to its row
            when is_discontinued then discontinued_at
            -- other products had a catalogue edit (description, photos) some time after listing;
            -- never after the last day of the base data
            else least(
                created_at
                    + make_interval(days => mod(pg_temp.ecom_hash('product:' || product_id || ':edited'), 900)::int)
                    + make_interval(secs => mod(pg_temp.ecom_hash('product:' || product_id || ':edited-time'), 36000)),
                timestamp '2024-12-31 23:59:59'
            )
        end as updated_at
    from dated
)

select * from final
order by product_id;
