-- init-db.sql: schemas and the read-only role of the tutorial warehouse.
--
-- Runs once in Docker (from /docker-entrypoint-initdb.d, as POSTGRES_USER in POSTGRES_DB) and on
-- every `ecom-tutorial up` (through the Python package, on an existing database), so every
-- statement is idempotent. The database itself is created by Docker (POSTGRES_DB) or by the
-- Python package, never here.
--
-- Two custom settings choose the names; Docker sets neither and gets the defaults:
--   ecom.target_schema   dbt's target schema (ECOM_DB_SCHEMA, default analytics_dev)
--   ecom.reporter_role   the read-only role (ECOM_REPORTER_ROLE, default reporter)

-- The schemas: raw data as exported by the operational system (filled by mock-data/*.sql), and
-- dbt's target schema (dbt creates its <target>_* schemas itself when it first builds them).
-- A schema created here gets a comment that marks it as the project's, so that `ecom-tutorial
-- reset` may drop it; a schema that already exists is used as it is, never marked, never dropped.
-- Creating a schema needs the CREATE privilege on the database; one that exists needs nothing.
do $schemas$
declare
    schema_name text;
begin
    foreach schema_name in array array[
        'raw_data',
        coalesce(nullif(current_setting('ecom.target_schema', true), ''), 'analytics_dev')
    ] loop
        if not exists (select from pg_namespace where nspname = schema_name) then
            begin
                execute format('create schema %I', schema_name);
                execute format('comment on schema %I is %L', schema_name,
                    'created by ecom-dbt-tutorial: `ecom-tutorial reset` may drop it');
            exception when duplicate_schema then
                null;  -- created meanwhile by a concurrent run, which marked it
            end;
        end if;
    end loop;
end
$schemas$;

-- The read-only role: a group role, without login and so without a password anywhere. A BI tool or
-- an analyst logs in as their own role and is given it by the server's admin:
--   create role alice login password '...';  grant reporter to alice;
-- Roles belong to the whole server: a user who may not create roles (a learner on a classroom
-- server) goes without it, and the marts' grant hooks then skip their grants.
do $reporter$
declare
    reporter text := coalesce(nullif(current_setting('ecom.reporter_role', true), ''), 'reporter');
    target text := coalesce(nullif(current_setting('ecom.target_schema', true), ''), 'analytics_dev');
    schema_name text;
begin
    if not exists (select from pg_catalog.pg_roles where rolname = reporter) then
        begin
            execute format('create role %I nologin', reporter);
        exception
            when insufficient_privilege then
                raise notice 'role % does not exist and % may not create it: no read-only role', reporter, current_user;
                return;
            when duplicate_object then
                null;  -- created meanwhile by a concurrent run
        end;
    end if;

    -- Read access to what exists now in the project's two schemas, where the current user owns the
    -- schema (a schema someone else created is not ours to grant; a learner of a class owns their
    -- target schema, not the shared raw_data: thirty learners granting on it at once would also
    -- collide, "tuple concurrently updated") ...
    foreach schema_name in array array['raw_data', target] loop
        if exists (
            select from pg_namespace
            where nspname = schema_name
              and (pg_has_role(nspowner, 'MEMBER')
                   or (select rolsuper from pg_roles where rolname = current_user))
        ) then
            execute format('grant usage on schema %I to %I', schema_name, reporter);
            execute format('grant select on all tables in schema %I to %I', schema_name, reporter);
        else
            raise notice '% does not own the schema %: its owner grants on it', current_user, schema_name;
        end if;
    end loop;

    -- ... and to the tables the current user (the loader, dbt) creates in them later: the raw tables
    -- are dropped and re-created on every load. Only IN SCHEMA: default privileges without it would
    -- cover every table this user ever creates, in any schema of the database, the project's or not
    -- (earlier versions did that: revoked here). The schemas dbt creates get their grants from the
    -- marts' hooks (macros/grant_hooks.sql).
    execute format('alter default privileges revoke usage on schemas from %I', reporter);
    execute format('alter default privileges revoke select on tables from %I', reporter);
    execute format('alter default privileges in schema raw_data, %I grant select on tables to %I', target, reporter);
end
$reporter$;
