-- init-db.sql: schemas and the read-only role of the tutorial warehouse.
--
-- Runs once in Docker (from /docker-entrypoint-initdb.d, as POSTGRES_USER in POSTGRES_DB) and on
-- every `ecom-tutorial up` (through the Python package, on an existing database), so every
-- statement is idempotent. The database itself is created by Docker (POSTGRES_DB) or by the
-- Python package, never here.

-- Raw data as exported by the operational system (filled by mock-data/*.sql).
create schema if not exists raw_data;

-- dbt's target schema; dbt creates the analytics_dev_* schemas (staging, seeds, snapshots, ...)
-- itself when it first builds them.
create schema if not exists analytics_dev;

-- `reporter`: a read-only login for BI tools and notebooks (password 'reporter', tutorial only).
do $init$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'reporter') then
        create role reporter login password 'reporter';
    end if;
end
$init$;

-- Read access to what exists now ...
grant usage on schema raw_data, analytics_dev to reporter;
grant select on all tables in schema raw_data to reporter;
grant select on all tables in schema analytics_dev to reporter;

-- ... and to what the current user (the loader, dbt) creates later: the raw tables are dropped
-- and re-created on every load, and dbt creates its schemas, tables and views when it runs.
-- Default privileges apply to objects created by the role that runs this script.
alter default privileges grant usage on schemas to reporter;
alter default privileges grant select on tables to reporter;
