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

{#- On Spark (lesson 11) a table of Parquet files cannot delete rows: dbt's delete+insert and merge
    need Delta Lake or Iceberg. The table is partitioned by month instead (one more column,
    order_month: a folder per month), and an incremental run rewrites whole months
    (insert_overwrite replaces exactly the partitions the run writes), so it selects every line of
    each month it touches, not only the changed lines. Why months and not days: a partition is a
    folder of files that every query lists, and a thousand folders of 150 lines each (scale 1)
    made a count of the table take 4 s instead of 0.1 s. -#}
{% set partition_month = "cast(" ~ dbt.date_trunc('month', 'order_date') ~ " as date)" %}
{% if target.type == 'spark' %}
    {{ config(incremental_strategy='insert_overwrite', partition_by=['order_month'], file_format='parquet') }}
{% endif %}

{% if is_incremental() %}
    {#- the table's high-water marks: its latest load time and its last day (macros/high_water_mark.sql) -#}
    {%- set loaded_mark = high_water_mark('source_loaded_at', timestamp_tz()) -%}
    {%- set day_mark = high_water_mark('order_date', 'date') -%}
{% endif %}

with

order_items as (
    select * from {{ ref('stg_ecommerce__order_items') }}
),

-- Named twice below: PostgreSQL would compute such a CTE once, in full, into a temporary result.
-- `not materialized` lets each use push its own filter into its read of the table.
orders as {{ not_materialized() }} (
    select * from {{ ref('stg_ecommerce__orders') }}
),

{% if is_incremental() %}
-- Orders (re)loaded after the mark, and orders dated after the table's last day (held back by
-- an earlier as-of day, see the header), this one said on the raw timestamp, whose index serves.
changed_orders as (
    select order_id
    from orders
    where
        loaded_at > {{ loaded_mark }}
        or ordered_at >= {{ day_mark }} + interval '1 day'
),
{% endif %}

-- The lines to process: all of them on a full build. On an incremental run, each line loaded
-- after the mark (strictly: rows at the mark were processed by the previous run), and every
-- line of a changed order; on Spark, every line of the days those lines fall on (see config).
lines_to_process as (
    select *
    from order_items
    {% if is_incremental() and target.type == 'spark' %}
        where order_id in (
            select orders.order_id
            from orders
            where {{ partition_month }} in (
                select cast({{ dbt.date_trunc('month', 'changed.order_date') }} as date)
                from orders as changed
                where
                    changed.order_id in (select changed_orders.order_id from changed_orders)
                    or changed.order_id in (
                        select new_lines.order_id from order_items as new_lines
                        where new_lines.loaded_at > {{ loaded_mark }}
                    )
            )
        )
    {% elif is_incremental() %}
        where
            loaded_at > {{ loaded_mark }}
            -- A list of keys (`= any(array(...))`), not a join or `in (select ...)`: PostgreSQL
            -- looks a list up in the raw table's index on order_id, while a join with a staging
            -- view (a query of CTEs) makes it read the whole table. So the run reads the batch,
            -- not the history, and costs what the batch costs.
            or order_id = any(array(select changed_orders.order_id from changed_orders))
    {% endif %}
),

-- The orders of those lines (by the same kind of list, on an incremental run)
orders_of_lines as (
    select *
    from orders
    {% if is_incremental() and target.type == 'spark' %}
        where order_id in (select lines_to_process.order_id from lines_to_process)
    {% elif is_incremental() %}
        where order_id = any(array(select lines_to_process.order_id from lines_to_process))
    {% endif %}
),

new_order_items as (
    select
        lines_to_process.*,
        orders_of_lines.customer_id,
        orders_of_lines.ordered_at,
        orders_of_lines.order_date,
        orders_of_lines.order_status,
        -- the row's high-water mark: the later of the two load times (see the header)
        greatest(lines_to_process.loaded_at, orders_of_lines.loaded_at) as source_loaded_at

    from lines_to_process
    inner join orders_of_lines
        on lines_to_process.order_id = orders_of_lines.order_id
    where orders_of_lines.order_date <= {{ as_of_date() }}
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

{% if target.type == 'spark' -%}
    -- the table's partition (see config), last: Spark keeps partition columns at the end
    select
        final.*,
        {{ partition_month }} as order_month
    from final
{%- else -%}
    select * from final
{%- endif %}
