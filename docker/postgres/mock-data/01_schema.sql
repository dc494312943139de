-- Raw e-commerce tables, as an operational system would export them.
-- Every load starts from empty tables, so running the mock-data scripts twice gives the same result.
-- `cascade` also drops the dbt staging views built on these tables; the next dbt run recreates them.
-- The scale factor is read from the custom setting `ecom.scale` (default 1): see 02_*.sql onwards.
-- The foreign keys (orders -> customers, order_items -> orders and products) and the secondary
-- indexes are added by 06_constraints.sql, after the bulk load: checking 1.5 million rows
-- (scale 10) in one set-based pass is much faster than checking them one by one while inserting.
-- product_reviews (07_product_reviews.sql) and returns (08_returns.sql) come from two other
-- systems of the shop, the review widget and the returns desk; each file adds its own keys at its end.

create schema if not exists raw_data;

drop table if exists raw_data.returns cascade;
drop table if exists raw_data.product_reviews cascade;
drop table if exists raw_data.order_items cascade;
drop table if exists raw_data.orders cascade;
drop table if exists raw_data.customers cascade;
drop table if exists raw_data.products cascade;

create table raw_data.products (
    product_id      integer primary key,
    sku             text not null unique,    -- stock-keeping unit, e.g. 'ELE-0017': the code on the shelf label
    name            text not null,
    category        text not null,          -- one of the 5 categories in seeds/product_categories.csv
    brand           text not null,
    list_price      numeric(10, 2) not null, -- current selling price
    unit_cost       numeric(10, 2) not null, -- what one unit costs us; always <= list_price
    is_active       boolean not null,
    created_at      timestamp not null,
    updated_at      timestamp not null,      -- bumped on every change: drives product_snapshot
    _loaded_at      timestamptz not null default now() -- when the loader wrote the row: source freshness
);

create table raw_data.customers (
    customer_id     integer primary key,
    first_name      text not null,
    last_name       text not null,
    email           text not null,
    city            text not null,
    state           text not null,
    country         text not null,
    segment         text not null,           -- consumer | small_business | corporate
    created_at      timestamp not null,      -- signup time
    updated_at      timestamp not null,      -- bumped on every change: drives customer_snapshot
    _loaded_at      timestamptz not null default now()
);

create table raw_data.orders (
    order_id        integer primary key,
    customer_id     integer not null,        -- -> customers (foreign key added by 06_constraints.sql)
    order_date      timestamp not null,      -- when the order was placed
    status          text not null,           -- completed | shipped | pending | cancelled | returned
    campaign_id     integer,                 -- seeds/campaign_metadata.csv; null = no campaign
    discount_amount numeric(12, 2) not null, -- sum of the line discounts
    total_amount    numeric(12, 2) not null, -- sum of the line totals
    updated_at      timestamp not null,
    _loaded_at      timestamptz not null default now()
);

create table raw_data.order_items (
    order_item_id   integer primary key,
    order_id        integer not null,        -- -> orders (foreign key added by 06_constraints.sql)
    product_id      integer not null,        -- -> products (foreign key added by 06_constraints.sql)
    quantity        integer not null,
    unit_price      numeric(10, 2) not null, -- list price at the time of the order
    unit_cost       numeric(10, 2) not null, -- unit cost at the time of the order
    discount_amount numeric(10, 2) not null,
    line_total      numeric(12, 2) not null, -- quantity * unit_price - discount_amount
    _loaded_at      timestamptz not null default now()
);

create table raw_data.product_reviews (
    review_id       integer primary key,
    product_id      integer not null,        -- -> products (foreign key added by 07_product_reviews.sql)
    customer_id     integer not null,        -- -> customers (foreign key added by 07_product_reviews.sql)
    rating          integer not null,        -- 1 (bad) .. 5 (excellent) stars
    review_title    text not null,           -- the headline the customer typed
    reviewed_at     timestamp not null,      -- after an order of this customer that contained this product
    _loaded_at      timestamptz not null default now()
);

create table raw_data.returns (
    return_id       integer primary key,
    order_id        integer not null,        -- -> orders (foreign key added by 08_returns.sql)
    order_item_id   integer not null unique, -- -> order_items: one return per returned order line
    product_id      integer not null,        -- -> products (foreign key added by 08_returns.sql)
    returned_at     timestamp not null,      -- when the parcel came back: 2 to 30 days after the order
    return_reason   text not null,           -- damaged | wrong size | not as described | changed mind | arrived late
    refund_amount   numeric(10, 2) not null, -- the line total; half of it for 'changed mind'
    _loaded_at      timestamptz not null default now()
);
