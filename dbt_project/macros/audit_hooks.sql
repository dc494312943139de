{#-
    Hooks that keep an audit log of dbt runs in the schema <target schema>_audit (the custom schema
    `audit`: in the one schema of the `ci` target, like every node there; generate_schema_name.sql).

    create_audit_log()    on-run-start: creates the schema (marked as the project's, like every
                          schema dbt creates: macros/create_schema.sql) and the table (idempotent,
                          so it is safe at the start of every dbt command).
    record_model_start()  pre-hook of every staging model: one row per model build, written
                          just before the model's SQL runs.

    Why a hook and not a model? The log must be written while dbt works, as a side effect of
    building OTHER models; a model only ever writes its own table.
-#}

{% macro audit_relation() -%}
    {{ generate_schema_name('audit', none) }}.dbt_model_runs
{%- endmacro %}

{% macro create_audit_log() -%}{{ adapter.dispatch('create_audit_log')() }}{%- endmacro %}

{% macro default__create_audit_log() %}
    {{ create_marked_schema(generate_schema_name('audit', none)) }};

    create table if not exists {{ audit_relation() }} (
        invocation_id text not null,         -- one id per dbt command: groups the rows of a run
        model_name    text not null,
        schema_name   text not null,
        event         text not null,         -- 'model_start'
        recorded_at   timestamptz not null default clock_timestamp()
    );
{% endmacro %}

{#- Not on Spark (lesson 11): a table of Parquet files takes one writer at a time, and dbt builds
    the staging models on several threads, whose appends would collide. A log that many writers
    append to needs a table format with transactions (Delta Lake, Iceberg). An empty hook is skipped. -#}
{% macro spark__create_audit_log() -%}{%- endmacro %}
{% macro spark__record_model_start() -%}{%- endmacro %}

{% macro record_model_start() -%}{{ adapter.dispatch('record_model_start')() }}{%- endmacro %}

{% macro default__record_model_start() %}
    {#- `dbt clone` builds nothing (and runs no on-run-start hook): an empty hook is skipped -#}
    {%- if flags.WHICH == 'clone' %}{% do return('') %}{% endif -%}
    {#- clock_timestamp(), not now(): now() is the start of the transaction, the same for every
        statement in it; clock_timestamp() is the moment this row is written -#}
    insert into {{ audit_relation() }} (invocation_id, model_name, schema_name, event, recorded_at)
    values ('{{ invocation_id }}', '{{ this.identifier }}', '{{ this.schema }}', 'model_start', clock_timestamp())
{% endmacro %}

