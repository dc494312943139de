with

monthly as (
    select * from {{ ref('int_finance__monthly_revenue') }}
),

final as (
    select
        month_start_date,
        cast(revenue as numeric(14, 2)) as revenue

    from monthly
)

select * from final
