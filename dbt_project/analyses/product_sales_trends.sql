-- Analysis: year-over-year sales by product: for each product and calendar year, the units and
-- revenue sold, and the growth over the previous year. Products with no sale in a year get a
-- row of zeros, so that the previous-year comparison never skips a year.
-- Compile with `dbt compile --select product_sales_trends`; run the SQL from target/compiled/.

with

order_items as (
    select * from {{ ref('fact_order_items') }}
),

products as (
    select * from {{ ref('dim_products') }}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

years as (
    select distinct year
    from calendar
    where date_key <= {{ as_of_date() }}
),

-- revenue lines only, up to as_of_date, like every other sales figure of the project
product_year_sales as (
    select
        product_id,
        cast(extract(year from order_date) as integer) as year,
        sum(quantity) as total_units_sold,
        sum(line_total) as total_revenue

    from order_items
    where is_revenue
        and order_date <= {{ as_of_date() }}
    group by 1, 2
),

-- every product x every year: a year without sales is a 0, not a missing row
product_years as (
    select
        products.product_id,
        products.product_name,
        products.category,
        years.year

    from products
    cross join years
),

with_sales as (
    select
        product_years.*,
        coalesce(product_year_sales.total_units_sold, 0) as total_units_sold,
        coalesce(product_year_sales.total_revenue, 0.00) as total_revenue

    from product_years
    left join product_year_sales
        on product_years.product_id = product_year_sales.product_id
            and product_years.year = product_year_sales.year
),

-- every product has a row for every year, so the previous row is the previous year
with_previous_year as (
    select
        *,
        lag(total_revenue) over (partition by product_id order by year) as previous_year_revenue

    from with_sales
),

final as (
    select
        *,
        -- null for the first year, and after a year without sales (no division by zero)
        {{ growth_pct('total_revenue', 'previous_year_revenue') }} as yoy_revenue_growth_pct,
        rank() over (partition by year order by total_revenue desc) as revenue_rank_in_year

    from with_previous_year
)

select * from final
order by product_id, year
