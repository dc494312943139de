-- Staging: one row per returned order line, as the returns desk exports it, renamed and typed.

with

source as (
    select * from {{ source('returns', 'returns') }}
),

renamed as (
    select
        -- keys
        cast(return_id as integer) as return_id,
        cast(order_id as integer) as order_id,
        cast(order_item_id as integer) as order_item_id,
        cast(product_id as integer) as product_id,

        -- a timestamp, named `_at`: when the parcel came back, to the second
        cast(returned_at as timestamp) as returned_at,

        -- reasons are compared as strings downstream (accepted_values, the mart's counts):
        -- normalise them once, here
        lower(trim(return_reason)) as return_reason,

        -- what the shop paid back
        cast(refund_amount as numeric(10, 2)) as refund_amount,

        -- metadata
        _loaded_at as loaded_at

    from source
)

select * from renamed
