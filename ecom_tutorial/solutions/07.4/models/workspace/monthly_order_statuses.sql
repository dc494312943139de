-- Orders by month and status, kept by PostgreSQL as a materialized view: read as fast as a table,
-- refreshed by each `dbt build` (`refresh materialized view`); a change of its config (an index,
-- say) is applied in place, without dropping it (on_configuration_change='apply').
{{ config(materialized='materialized_view', on_configuration_change='apply') }}

with

orders as (
    select * from {{ ref('fact_orders') }}
),

final as (
    select
        cast(date_trunc('month', date_key) as date) as month_start_date,
        order_status,
        count(*) as orders

    from orders
    group by 1, 2
)

select * from final
