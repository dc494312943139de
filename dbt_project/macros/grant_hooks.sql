{#-
    Hooks that give the read-only role `reporter` (var `reporter_role`) access to the marts.

    grant_select_to_reporter()    post-hook of every mart: `grant select` on the table just built.
                                  A post-hook is needed because dbt re-creates a table on every
                                  run, and a new table starts without any grants.
    grant_usage_to_reporter()     on-run-end: `grant usage` on the marts schema, without which
                                  the role cannot see any table in it, whatever its grants.

    The role (var `reporter_role`, set by ECOM_REPORTER_ROLE) is created by docker/postgres/init-db.sql
    and by `ecom-tutorial up` where the user may create roles. On a server without it, or where the
    user may not grant on it (a learner on a classroom server, say), the hooks print a notice and
    do nothing, instead of failing the whole build. dbt also has a declarative `grants:` config that does the same;
    the course uses hooks here to show how hooks work.
-#}

{% macro grant_select_to_reporter() -%}{{ adapter.dispatch('grant_select_to_reporter')() }}{%- endmacro %}
{% macro grant_usage_to_reporter() -%}{{ adapter.dispatch('grant_usage_to_reporter')() }}{%- endmacro %}

{#- On Spark: no grants. The local cluster's Thrift server has no users or roles to grant to (it
    runs without authentication, on 127.0.0.1 only); an empty hook is skipped. -#}
{% macro spark__grant_select_to_reporter() -%}{%- endmacro %}
{% macro spark__grant_usage_to_reporter() -%}{%- endmacro %}

{% macro default__grant_select_to_reporter() %}
    {%- set role = var('reporter_role', 'reporter') -%}
    do $grant$
    begin
        if exists (select 1 from pg_roles where rolname = '{{ role }}') then
            grant select on {{ this }} to {{ adapter.quote(role) }};
        else
            raise notice 'role {{ role }} does not exist: no grant on {{ this.identifier }}';
        end if;
    exception when insufficient_privilege then
        raise notice 'no privilege to grant on {{ this.identifier }} to {{ role }}: skipped';
    end
    $grant$
{% endmacro %}

{% macro default__grant_usage_to_reporter() %}
    {%- set role = var('reporter_role', 'reporter') -%}
    do $grant$
    begin
        if exists (select 1 from pg_roles where rolname = '{{ role }}')
            and exists (select 1 from pg_namespace where nspname = '{{ target.schema }}') then
            grant usage on schema {{ adapter.quote(target.schema) }} to {{ adapter.quote(role) }};
        end if;
    exception when insufficient_privilege then
        raise notice 'no privilege to grant usage on schema {{ target.schema }} to {{ role }}: skipped';
    end
    $grant$
{% endmacro %}
