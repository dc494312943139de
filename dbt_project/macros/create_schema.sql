{#-
    The schemas dbt creates carry a comment that marks them as this project's, so that
    `ecom-tutorial reset` drops them and never a schema someone else created (a classroom admin,
    a learner's `public`): see ecom_tutorial/ownership.py.

    postgres__create_schema(relation)   dbt's own create_schema for PostgreSQL, overridden here:
                                        dbt looks for it in the root project before its own.
    create_marked_schema(schema_name)   create a schema and mark it, unless it exists already.
    ecom_schema_marker()                the marker (docker/postgres/init-db.sql writes the same).
-#}

{% macro ecom_schema_marker() -%}
    created by ecom-dbt-tutorial: `ecom-tutorial reset` may drop it
{%- endmacro %}

{% macro create_marked_schema(schema_name) %}
    do $create$
    begin
        if not exists (select from pg_namespace where nspname = '{{ schema_name }}') then
            create schema {{ adapter.quote(schema_name) }};
            comment on schema {{ adapter.quote(schema_name) }} is '{{ ecom_schema_marker() }}';
        end if;
    exception when duplicate_schema then
        null;  -- created meanwhile by a concurrent run, which marked it
    end
    $create$
{% endmacro %}

{% macro postgres__create_schema(relation) -%}
    {%- if relation.database -%}
        {{ adapter.verify_database(relation.database) }}
    {%- endif -%}
    {%- call statement('create_schema') -%}
        {{ create_marked_schema(relation.schema) }}
    {%- endcall -%}
{% endmacro %}
