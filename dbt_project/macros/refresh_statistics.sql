{#-
    refresh_statistics()

    Post-hook of every mart (dbt_project.yml): `analyze` the table just built, so that PostgreSQL
    plans the notebooks' first queries with real row counts instead of guesses (a rebuilt table
    starts without statistics until autovacuum gets to it).

    Not after an incremental run of a table that has statistics: the run added a batch, the
    statistics stay right (autovacuum refreshes them when enough rows change), and analyzing the
    whole table would cost more than the batch (1.0 of the 1.5 s of fact_order_items after the
    next-day batch at scale 10). The first build and a --full-refresh of an incremental model
    create the table, and are analyzed like any other.
-#}
{% macro refresh_statistics() -%}{{ adapter.dispatch('refresh_statistics')() }}{%- endmacro %}

{#- Spark's optimizer uses table statistics too (row counts and sizes, to pick a broadcast join);
    `analyze table` computes them. After an incremental batch, the same reasoning as above. -#}
{% macro spark__refresh_statistics() -%}
    {%- if not (config.get('materialized') == 'incremental' and not flags.FULL_REFRESH) -%}
        analyze table {{ this }} compute statistics
    {%- endif -%}
{%- endmacro %}

{% macro default__refresh_statistics() %}
    {%- if config.get('materialized') == 'incremental' and not flags.FULL_REFRESH -%}
        do $analyze$
        begin
            if not exists (
                select from pg_stats
                where schemaname = '{{ this.schema }}' and tablename = '{{ this.identifier }}'
            ) then
                analyze {{ this }};
            end if;
        end
        $analyze$
    {%- else -%}
        analyze {{ this }}
    {%- endif -%}
{% endmacro %}
