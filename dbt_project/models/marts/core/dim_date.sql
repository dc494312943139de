-- Date dimension: one row per calendar day. Every time-series mart joins to it, so days without
-- a single order still exist (a chart with a missing day is a lie; a zero is the truth).
--
-- The calendar starts with the data (2022-01-01) and ends on 2024-12-31 or on the as-of day
-- (macro as_of_date), whichever is later: after the next-day batch the as-of day is 2025-01-01
-- and the new orders still find their day here.

{%- set calendar_start = '2022-01-01' -%}
{%- set calendar_end = [as_of_date_value(), '2024-12-31'] | max %}

with

spine as (
    {{ generate_date_spine(calendar_start, calendar_end) }}
),

holidays as (
    select * from {{ ref('us_holidays') }}
),

calendar as (
    select
        date_day as date_key,

        -- ISO conventions throughout: weeks start on Monday, Monday = 1 ... Sunday = 7, and week 1
        -- is the week with the year's first Thursday (so 2022-01-01, a Saturday, is in week 52
        -- of ISO year 2021)
        cast({{ iso_day_of_week('date_day') }} as integer) as day_of_week,
        {{ day_name('date_day') }} as day_name,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast(extract(doy from date_day) as integer) as day_of_year,
        cast(extract(week from date_day) as integer) as week_of_year,
        cast({{ iso_year('date_day') }} as integer) as iso_year,
        cast(date_trunc('week', date_day) as date) as week_start_date,
        cast(extract(month from date_day) as integer) as month,
        {{ month_name('date_day') }} as month_name,
        cast(date_trunc('month', date_day) as date) as month_start_date,
        cast(extract(quarter from date_day) as integer) as quarter,
        cast(extract(year from date_day) as integer) as year,
        {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend

    from spine
),

final as (
    select
        calendar.*,
        holidays.holiday_date is not null as is_holiday,
        holidays.holiday_name

    from calendar
    left join holidays
        on calendar.date_key = holidays.holiday_date
)

select * from final
