"""Exercises of lesson 06, snapshots: the data as of a date, and who changed segment."""

from __future__ import annotations

from . import Exercise, Mistake, register

SNAPSHOT = "{target}_snapshots.customer_snapshot"
# The instant the exercises ask about: the end of the base data, before the next-day batch.
AS_OF = "timestamp '2024-12-31 23:59:59'"
VALID_AT = f"dbt_valid_from <= {AS_OF} and (dbt_valid_to > {AS_OF} or dbt_valid_to is null)"


def _segments(where: str) -> str:
    return f"select customer_segment, count(*) as customers from {SNAPSHOT} where {where} group by 1"


SEGMENT_CHANGED = "old.customer_segment <> current_versions.customer_segment"


def _changes(old_where: str, changed: str = SEGMENT_CHANGED, swap: bool = False) -> str:
    old, new = ("current_versions", "old") if swap else ("old", "current_versions")
    columns = "customer_id, customer_segment, dbt_scd_id"
    return f"""
        with
        old as (select {columns} from {SNAPSHOT} where {old_where}),
        current_versions as (select {columns} from {SNAPSHOT} where dbt_valid_to is null)
        select
            old.customer_id,
            {old}.customer_segment as old_segment,
            {new}.customer_segment as new_segment
        from old
        inner join current_versions on old.customer_id = current_versions.customer_id
        where {changed}
    """


register(
    Exercise(
        id="06.1",
        title="Customers per segment as of 2024-12-31 23:59:59",
        expected=_segments(VALID_AT),
        key=("customer_segment",),
        atol=0,
        mistakes=(
            Mistake(
                "These are today's segments (dbt_valid_to is null keeps the current versions). As of a past "
                "instant t, keep the version valid at t: dbt_valid_from <= t and (dbt_valid_to > t or dbt_valid_to is null).",
                _segments("dbt_valid_to is null"),
            ),
            Mistake(
                "You counted every version, so a customer who changed counts twice. Keep one version per "
                "customer: the one valid at the instant asked.",
                _segments("true"),
            ),
            Mistake(
                "`dbt_valid_to > t` alone drops every current version: its dbt_valid_to is null, and "
                "null > t is not true. Add `or dbt_valid_to is null`.",
                _segments(f"dbt_valid_from <= {AS_OF} and dbt_valid_to > {AS_OF}"),
            ),
        ),
        hint="The version valid at t: dbt_valid_from <= t and (dbt_valid_to > t or dbt_valid_to is null).",
    ),
    Exercise(
        id="06.2",
        title="Customers whose segment changed since the end of 2024",
        expected=_changes(VALID_AT),
        key=("customer_id",),
        mistakes=(
            Mistake(
                "Old and new segments are swapped: the old one comes from the version valid at the end of "
                "2024, the new one from the current version (dbt_valid_to is null).",
                _changes(VALID_AT, swap=True),
            ),
        ),
        hint="Join the version valid at the end of 2024 with the current version of the same customer.",
    ),
)
