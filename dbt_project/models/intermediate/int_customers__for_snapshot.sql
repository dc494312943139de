-- Intermediate (ephemeral): the customer columns whose history customer_snapshot keeps.
-- A snapshot stores every version of every column it reads, forever. So we choose them here:
-- the profile attributes plus updated_at (the timestamp strategy compares it), and NOT the
-- load metadata (loaded_at, dbt_updated_at), which changes on every load without the customer
-- changing at all.

with

customers as (
    select * from {{ ref('stg_ecommerce__customers') }}
),

final as (
    select
        customer_id,
        first_name,
        last_name,
        email,
        city,
        state,
        country,
        customer_segment,
        signed_up_at,
        updated_at

    from customers
)

select * from final
