{#-
    What PostgreSQL and Spark SQL spell differently, said once (lesson 11).

    Each macro asks dbt for the version of the engine in use: adapter.dispatch('day_name') calls
    spark__day_name on Spark, and default__day_name everywhere else (PostgreSQL). A model calls
    {{ day_name('date_day') }} and reads the same on both engines. dbt's own cross-database macros
    (dbt.dateadd, dbt.hash, dbt.type_string, ...) work the same way; these are the ones dbt has not.

    timestamp_tz()           the type of a moment in time: timestamptz, Spark's timestamp
    iso_day_of_week(date)    Monday = 1 ... Sunday = 7
    iso_year(date)           the year of the date's ISO week (2022-01-01 is in ISO year 2021)
    day_name(date)           'Monday'
    month_name(date)         'January'
    local_now()              "now" as a timestamp without time zone, like the raw data's times
    not_materialized()       PostgreSQL's hint that a CTE named twice is inlined at each use
-#}

{% macro timestamp_tz() -%}{{ adapter.dispatch('timestamp_tz')() }}{%- endmacro %}
{% macro default__timestamp_tz() -%}timestamptz{%- endmacro %}
{#- Spark's timestamp is a moment (shown in the session's time zone, UTC here), like timestamptz -#}
{% macro spark__timestamp_tz() -%}timestamp{%- endmacro %}

{% macro iso_day_of_week(date) -%}{{ adapter.dispatch('iso_day_of_week')(date) }}{%- endmacro %}
{% macro default__iso_day_of_week(date) -%}extract(isodow from {{ date }}){%- endmacro %}
{% macro spark__iso_day_of_week(date) -%}extract(dayofweek_iso from {{ date }}){%- endmacro %}

{% macro iso_year(date) -%}{{ adapter.dispatch('iso_year')(date) }}{%- endmacro %}
{% macro default__iso_year(date) -%}extract(isoyear from {{ date }}){%- endmacro %}
{% macro spark__iso_year(date) -%}extract(yearofweek from {{ date }}){%- endmacro %}

{% macro day_name(date) -%}{{ adapter.dispatch('day_name')(date) }}{%- endmacro %}
{#- FM: no padding to the longest name ('Monday', not 'Monday   ') -#}
{% macro default__day_name(date) -%}to_char({{ date }}, 'FMDay'){%- endmacro %}
{% macro spark__day_name(date) -%}date_format({{ date }}, 'EEEE'){%- endmacro %}

{% macro month_name(date) -%}{{ adapter.dispatch('month_name')(date) }}{%- endmacro %}
{% macro default__month_name(date) -%}to_char({{ date }}, 'FMMonth'){%- endmacro %}
{% macro spark__month_name(date) -%}date_format({{ date }}, 'MMMM'){%- endmacro %}

{% macro local_now() -%}{{ adapter.dispatch('local_now')() }}{%- endmacro %}
{% macro default__local_now() -%}localtimestamp{%- endmacro %}
{#- the session's time zone is UTC (ecom_tutorial/spark_cluster.py), as the raw data's -#}
{% macro spark__local_now() -%}current_timestamp(){%- endmacro %}

{% macro not_materialized() -%}{{ adapter.dispatch('not_materialized')() }}{%- endmacro %}
{% macro default__not_materialized() -%}not materialized{%- endmacro %}
{#- Spark inlines a CTE at each use anyway -#}
{% macro spark__not_materialized() -%}{%- endmacro %}
