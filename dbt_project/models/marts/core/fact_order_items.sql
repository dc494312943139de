-- Fact: one row per order line, with the keys of its dimensions, the order's status and date,
-- and the line's amounts. The biggest table of the project, so it is built incrementally: each
-- run only processes the lines loaded since the previous run, instead of rebuilding everything.
--
-- How the incremental run works (read this before changing the model):
-- * First run, or `dbt build --full-refresh`: is_incremental() is false, the whole query runs
--   and the table is (re)created.
-- * Later runs: is_incremental() is true, only rows newer than the table's high-water mark are
--   selected, and dbt deletes + re-inserts them by unique_key (order_item_id), so a line that
--   comes back (e.g. its order changed status) replaces its old version instead of duplicating.
--
-- Why filter on the load timestamp and not on the order date? The order date says when the
-- customer bought, not when the row reached the warehouse: a late-arriving order from last week
-- would be missed by "order_date > max(order_date)". The loader's timestamp only ever grows.
-- A line is "new" when the line itself or its order was (re)loaded after the last run, so a
-- status change on an old order (the order row is reloaded) refreshes its lines too.
--
-- Like fact_orders, it stops at the as-of day (macro as_of_date): a line of an order placed
-- later waits for the as-of day to reach it, so every line has its order in fact_orders and its
-- day in dim_date (relationship tests in fact_order_items.yml). Such a line may have been loaded
-- long before the as-of day moves: the incremental filter also picks up every line dated after
-- the latest day already in the table.
--
-- Every column is a pure function of the raw rows, so an incremental run and a full refresh
-- give the same table. That is why there is no "dbt_inserted_at = now()" column here: it would
-- differ between the two by construction.
--
-- The columns are an enforced contract (fact_order_items.yml). dbt only allows that on an
-- incremental model with on_schema_change 'fail' or 'append_new_columns'; the contract's DDL
-- (types, primary key) is applied when the table is created (first run, --full-refresh).

{{
    config(
        materialized='incremental',
        unique_key='order_item_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

orders as (
    select * from {{ ref('stg_ecommerce__orders') }}
),

order_items_with_orders as (
    select
        order_items.*,
        orders.customer_id,
        orders.ordered_at,
        orders.order_date,
        orders.order_status,
        -- the row's high-water mark: the later of the two load times (see the header)
        greatest(order_items.loaded_at, orders.loaded_at) as source_loaded_at

    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
),

order_items_as_of as (
    select *
    from order_items_with_orders
    where order_date <= {{ as_of_date() }}
),

new_order_items as (
    select *
    from order_items_as_of
    {% if is_incremental() %}
        -- strictly greater: rows at exactly the mark were processed by the previous run.
        -- coalesce() covers an empty target table (max() of nothing is null).
        where
            source_loaded_at > (
                select coalesce(max(existing_rows.source_loaded_at), cast('1900-01-01' as timestamptz))
                from {{ this }} as existing_rows
            )
            -- lines held back by an earlier as-of day (see the header)
            or order_date > (
                select coalesce(max(existing_rows.order_date), cast('1900-01-01' as date))
                from {{ this }} as existing_rows
            )
    {% endif %}
),

final as (
    select
        -- keys: the surrogate keys are hashes of the natural keys, so they are computed here
        -- without a join to the dimensions, and are identical in every run
        order_item_id,
        order_id,
        product_id,
        customer_id,
        {{ ecom_utils.generate_surrogate_key(['product_id']) }} as product_key,
        {{ ecom_utils.generate_surrogate_key(['customer_id']) }} as customer_key,

        -- when and in which state
        ordered_at,
        order_date,
        order_status,
        {{ is_revenue_order('order_status') }} as is_revenue,

        -- amounts
        quantity,
        unit_price,
        unit_cost,
        discount_amount,
        line_total,
        -- the macro returns a plain `numeric`; the contract (and the table) say numeric(12, 2).
        -- Incremental runs compare the new rows' types with the table's, precision included,
        -- and on_schema_change='fail' would stop at numeric vs numeric(12,2): cast to match
        {{ to_decimal(calculate_revenue_with_tax('line_total'), precision=12) }} as line_total_with_tax,
        line_cost,
        line_profit,

        -- incremental bookkeeping
        source_loaded_at

    from new_order_items
)

select * from final
