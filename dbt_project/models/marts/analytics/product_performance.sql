-- Analytics: one row per product (sold or not), with its sales up to the `as_of_date` variable,
-- realised margin, rankings and turnover. Answers "which products and categories make us money?"
--
-- Definitions (also in the YAML docs):
-- * revenue = what customers paid (line totals after discounts), revenue orders only;
-- * realised margin % = profit / revenue: unlike the list margin of dim_products it includes
--   discounts and the prices actually charged at the time of each order;
-- * turnover_rate = units sold per day since the product's first sale (first sale to
--   as_of_date, both days counted): how fast the product sells once it is on the shelf.
--   It does not penalise products added to the catalogue late, unlike units / all days.

with

products as (
    select * from {{ ref('dim_products') }}
),

product_sales as (
    select * from {{ ref('int_products__sales_agg') }}
),

joined as (
    select
        products.product_key,
        products.product_id,
        products.sku,
        products.product_name,
        products.category,
        products.brand,
        products.is_active,
        products.list_price,
        products.profit_margin_pct as list_margin_pct,
        -- unsold products: zero sales, not unknown sales
        coalesce(product_sales.total_units_sold, 0) as total_units_sold,
        coalesce(product_sales.total_orders, 0) as total_orders,
        -- to_decimal() pins the type the contract declares (why: macros/to_decimal.sql)
        {{ to_decimal('coalesce(product_sales.total_revenue, 0)') }} as total_revenue,
        {{ to_decimal('coalesce(product_sales.total_cost, 0)') }} as total_cost,
        {{ to_decimal('coalesce(product_sales.total_profit, 0)') }} as total_profit,
        -- an average of unit prices fits the type of a unit price
        {{ to_decimal('product_sales.average_unit_price', precision=10) }} as average_unit_price,
        product_sales.first_sold_date,
        product_sales.last_sold_date

    from products
    left join product_sales
        on products.product_id = product_sales.product_id
),

metrics as (
    select
        *,
        -- null (not 0) when nothing was sold: a margin of nothing is undefined. At most 100,
        -- but unbounded below (discounts can exceed the margin), hence the wide numeric(14, 2)
        {{ to_decimal('round(100.0 * total_profit / nullif(total_revenue, 0), 2)') }} as profit_margin_pct,
        {{ calculate_days_between('first_sold_date', as_of_date()) }} + 1
            as days_on_sale

    from joined
),

ranked as (
    select
        *,
        {{ to_decimal('round(total_units_sold * 1.0 / nullif(days_on_sale, 0), 4)', scale=4) }} as turnover_rate,
        -- window functions compare each row with the others without collapsing them:
        -- share of the whole catalogue's revenue, and of the product's own category
        -- shares are 0-100 with 4 decimals: numeric(7, 4) holds exactly 0.0000 to 100.0000
        {{ to_decimal('round(100.0 * total_revenue / nullif(sum(total_revenue) over (), 0), 4)', 7, 4) }}
            as revenue_share_pct,
        {{ to_decimal('round(
            100.0 * total_revenue / nullif(sum(total_revenue) over (partition by category), 0),
            4
        )', 7, 4) }} as category_revenue_share_pct,
        -- rank() gives ties the same rank and skips the next ones (1, 2, 2, 4): products
        -- with equal revenue (e.g. all unsold products) are equally placed
        rank() over (partition by category order by total_revenue desc) as category_rank,
        rank() over (order by total_revenue desc) as overall_rank

    from metrics
),

final as (
    select
        product_key,
        product_id,
        sku,
        product_name,
        category,
        brand,
        is_active,
        list_price,
        list_margin_pct,
        total_units_sold,
        total_orders,
        total_revenue,
        total_cost,
        total_profit,
        profit_margin_pct,
        average_unit_price,
        first_sold_date,
        last_sold_date,
        days_on_sale,
        turnover_rate,
        revenue_share_pct,
        category_revenue_share_pct,
        category_rank,
        overall_rank

    from ranked
)

select * from final
