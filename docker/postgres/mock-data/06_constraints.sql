-- 06_constraints.sql: foreign keys, secondary indexes and statistics, after the bulk load.
--
-- Adding a foreign key to a filled table checks all rows in one set-based query, much faster
-- than a check per inserted row. The constraint names are PostgreSQL's defaults
-- (<table>_<column>_fkey), the names the tables would get with inline `references` clauses.

alter table raw_data.orders
    add constraint orders_customer_id_fkey
    foreign key (customer_id) references raw_data.customers (customer_id);

alter table raw_data.order_items
    add constraint order_items_order_id_fkey
    foreign key (order_id) references raw_data.orders (order_id);

alter table raw_data.order_items
    add constraint order_items_product_id_fkey
    foreign key (product_id) references raw_data.products (product_id);

-- Indexes for the joins and incremental filters of the dbt models.
create index orders_customer_id_idx on raw_data.orders (customer_id);
create index orders_order_date_idx on raw_data.orders (order_date);
create index order_items_order_id_idx on raw_data.order_items (order_id);
create index order_items_product_id_idx on raw_data.order_items (product_id);
-- The load time: an incremental run (fact_order_items) reads only the rows loaded after its
-- high-water mark, a few hundred of millions.
create index orders_loaded_at_idx on raw_data.orders (_loaded_at);
create index order_items_loaded_at_idx on raw_data.order_items (_loaded_at);

-- Fresh statistics, so that the first queries get good plans.
analyze raw_data.products;
analyze raw_data.customers;
analyze raw_data.orders;
analyze raw_data.order_items;
