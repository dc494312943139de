"""What this project created in the database, and dropping exactly that: never a learner's own objects.

The schemas of `Settings.owned_schemas` carry the project's names, but one of them may also hold
objects the project never created (ECOM_DB_SCHEMA=public, a learner's own table), or may have been
created by someone else (a classroom admin). So a drop follows two rules:

- A schema the project created carries a marker, `comment on schema ... is SCHEMA_MARKER`, set by
  docker/postgres/init-db.sql (raw_data, the target schema) and by dbt (the `<target>_*` schemas,
  dbt_project/macros/create_schema.sql). Only a marked schema that holds nothing but the project's
  relations is dropped whole.
- The project's relations are the raw tables (`mock_data.RAW_TABLES`), the audit tables, and what
  dbt's manifest names (models, seeds, snapshots, stored test failures, with dbt's leftovers of an
  interrupted run). Anywhere else only these are dropped; everything else stays and is reported.

Nothing at all is dropped while an object outside that set depends on it (a learner's view on a
mart, a foreign key to a raw table): `drop ... cascade` would take it along.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field

import psycopg2.extensions
from psycopg2 import sql

from .errors import EcomTutorialError, ForeignObjectsError
from .mock_data import RAW_TABLES
from .settings import Settings

SCHEMA_MARKER = "created by ecom-dbt-tutorial: `ecom-tutorial reset` may drop it"

# Tables written beside dbt's own relations, in <target>_audit: the audit hook's log
# (dbt_project/macros/audit_hooks.sql) and the package's record of successful builds (warehouse).
BUILD_STATE_TABLE = "ecom_build_state"
AUDIT_TABLES = ("dbt_model_runs", BUILD_STATE_TABLE)
# Relations dbt leaves behind when a run is interrupted (renamed old tables, half-built new ones).
DBT_LEFTOVER_SUFFIXES = ("", "__dbt_backup", "__dbt_tmp")
DBT_RELATION_TYPES = {"model", "seed", "snapshot", "test"}
DROP_KEYWORDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
}
LISTED_AT_MOST = 10  # objects named per schema in a message; the rest are counted

# Every object in the project's schemas (pg_depend's 'n' entries on a schema are exactly the objects
# in it: tables, views, sequences, functions, types), with the table that owns a sequence.
_SCHEMA_OBJECTS_SQL = """
with

schemas as (
    select
        oid as schema_oid,
        nspname as schema_name,
        coalesce(obj_description(oid, 'pg_namespace') = %(marker)s, false) as is_marked
    from pg_namespace
    where nspname = any(%(schemas)s)
),

objects as (
    select refobjid as schema_oid, classid, objid
    from pg_depend
    where refclassid = 'pg_namespace'::regclass and deptype = 'n'
),

sequence_owners as (
    select objid as sequence_oid, refobjid as table_oid
    from pg_depend
    where classid = 'pg_class'::regclass and refclassid = 'pg_class'::regclass and deptype in ('a', 'i')
),

final as (
    select
        schemas.schema_name,
        schemas.is_marked,
        relations.oid::bigint as relation_oid,
        relations.relname as relation_name,
        relations.relkind::text as relation_kind,
        owners.relname as owner_name,
        described.type || ' ' || described.identity as description
    from schemas
    left join objects on objects.schema_oid = schemas.schema_oid
    left join pg_class as relations
        on objects.classid = 'pg_class'::regclass and relations.oid = objects.objid
    left join sequence_owners on sequence_owners.sequence_oid = relations.oid
    left join pg_class as owners on owners.oid = sequence_owners.table_oid
    -- "table public.notes": pg_identify_object names the schema even where search_path makes it visible
    left join lateral pg_identify_object(objects.classid, objects.objid, 0) as described on objects.objid is not null
)

select * from final order by schema_name, description
"""

# Objects outside the drop set that depend on a relation in it, each named by its relation where
# it has one (a view rather than its rewrite rule, a table rather than its foreign key).
_DEPENDENTS_SQL = """
with

dependencies as (
    select classid, objid
    from pg_depend
    where refclassid = 'pg_class'::regclass and refobjid = any(%(oids)s::oid[]) and deptype = 'n'
),

dependents as (
    select
        classid,
        objid,
        case classid
            when 'pg_class'::regclass then objid
            when 'pg_rewrite'::regclass then (select ev_class from pg_rewrite where oid = objid)
            when 'pg_constraint'::regclass then (select nullif(conrelid, 0) from pg_constraint where oid = objid)
            when 'pg_trigger'::regclass then (select tgrelid from pg_trigger where oid = objid)
            when 'pg_attrdef'::regclass then (select adrelid from pg_attrdef where oid = objid)
        end as relation_oid
    from dependencies
),

final as (
    select distinct described.type || ' ' || described.identity as description
    from dependents
    cross join lateral pg_identify_object(
        case when relation_oid is null then classid else 'pg_class'::regclass end,
        coalesce(relation_oid, objid),
        0
    ) as described
    where relation_oid is null or relation_oid <> all(%(oids)s::oid[])
)

select description from final order by 1
"""


@dataclass(frozen=True)
class DropReport:
    """What a drop did: schemas dropped whole, relations dropped one by one, objects of others kept."""

    schemas: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()  # "schema.name", in schemas that stay
    kept: dict[str, tuple[str, ...]] = field(default_factory=dict)  # schema -> objects not the project's

    @property
    def dropped(self) -> tuple[str, ...]:
        """Each schema dropped, then each schema the project's relations were dropped from."""
        partly = tuple(dict.fromkeys(name.split(".", 1)[0] for name in self.relations))
        return self.schemas + tuple(f"{schema} (the project's tables only)" for schema in partly)

    def kept_message(self) -> str | None:
        """What was found and kept, and what to do about it; None if nothing was."""
        if not self.kept:
            return None
        lines = []
        for schema, objects in self.kept.items():
            lines.append(
                f"Kept schema {schema}: it holds objects that are not this project's ({_listed(objects)}), "
                "so only the project's own tables and views in it were dropped."
            )
        lines.append(
            f"Move them to a schema of your own (e.g. `{_move_example(next(iter(self.kept.values())))}`), "
            "or set ECOM_DB_SCHEMA to a schema that only the course uses."
        )
        return "\n".join(lines)


def _move_example(objects: tuple[str, ...]) -> str:
    """`alter table s.t set schema my_work` for the first table or view listed (as PostgreSQL words them)."""
    for description in objects:
        kind, _, name = description.rpartition(" ")
        if kind in ("table", "view", "materialized view", "sequence"):
            return f"create schema if not exists my_work; alter {kind} {name} set schema my_work"
    return "create schema my_work; alter table public.my_table set schema my_work"


def _listed(objects: tuple[str, ...]) -> str:
    shown = ", ".join(objects[:LISTED_AT_MOST])
    more = len(objects) - LISTED_AT_MOST
    return shown + (f" and {more} more" if more > 0 else "")


def _manifest_relations(settings: Settings) -> set[tuple[str, str]]:
    """(schema, name) of every relation dbt's manifest names, in the current target schema.

    The schema is rebuilt from the node's custom schema (dbt's default generate_schema_name), so a
    manifest written for another ECOM_DB_SCHEMA still names the right relations. Without a manifest,
    `dbt parse` writes one; if even that fails, no dbt relation is known and all of them are kept.
    """
    manifest = settings.dbt_target_dir / "manifest.json"
    if not manifest.exists():
        from .runner import run_dbt

        # no manifest then: the dbt relations are kept, and reported as not the project's
        with contextlib.suppress(EcomTutorialError):
            run_dbt(["parse"], progress=False, check=False, settings=settings)
    try:
        nodes = json.loads(manifest.read_text()).get("nodes", {}).values()
    except (OSError, ValueError):
        return set()
    relations = set()
    for node in nodes:
        config = node.get("config") or {}
        if node.get("resource_type") not in DBT_RELATION_TYPES or config.get("materialized") == "ephemeral":
            continue
        custom = config.get("schema")
        schema = f"{settings.db_schema}_{custom}" if custom else settings.db_schema
        name = node.get("alias") or node.get("name")
        relations |= {(schema, name + suffix) for suffix in DBT_LEFTOVER_SUFFIXES}
    return relations


def existing_owned_schemas(conn: psycopg2.extensions.connection, settings: Settings) -> list[str]:
    """Which of the schemas this project owns exist right now."""
    with conn.cursor() as cur:
        cur.execute(
            "select nspname from pg_namespace where nspname = any(%s) order by nspname",
            (list(settings.owned_schemas),),
        )
        return [row[0] for row in cur.fetchall()]


def project_relations(settings: Settings) -> set[tuple[str, str]]:
    """(schema, name) of every relation this project creates."""
    raw = {(settings.raw_schema, table) for table in RAW_TABLES}
    audit = {(f"{settings.db_schema}_audit", table) for table in AUDIT_TABLES}
    return raw | audit | _manifest_relations(settings)


@dataclass(frozen=True)
class _SchemaObject:
    schema: str
    is_marked: bool
    relation_oid: int | None
    relation_name: str | None
    relation_kind: str | None
    owner_name: str | None
    description: str | None


def _schema_objects(conn: psycopg2.extensions.connection, settings: Settings) -> list[_SchemaObject]:
    with conn.cursor() as cur:
        cur.execute(_SCHEMA_OBJECTS_SQL, {"marker": SCHEMA_MARKER, "schemas": list(settings.owned_schemas)})
        return [_SchemaObject(*row) for row in cur.fetchall()]


def _dependents(conn: psycopg2.extensions.connection, oids: list[int]) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(_DEPENDENTS_SQL, {"oids": oids})
        return [row[0] for row in cur.fetchall()]


def drop_project_objects(conn: psycopg2.extensions.connection, settings: Settings) -> DropReport:
    """Drop what this project created in its schemas, and nothing else (see the module's docstring).

    Raises ForeignObjectsError, having dropped nothing, if an object that is not the project's
    depends on one that is. Runs in the caller's transaction.
    """
    ours = project_relations(settings)
    objects = _schema_objects(conn, settings)

    def is_ours(obj: _SchemaObject) -> bool:
        owner = obj.relation_name if obj.owner_name is None else obj.owner_name
        return obj.relation_oid is not None and (obj.schema, owner) in ours

    schemas = list(dict.fromkeys(obj.schema for obj in objects))
    foreign = {
        schema: tuple(o.description for o in objects if o.schema == schema and o.description and not is_ours(o))
        for schema in schemas
    }
    marked = {obj.schema for obj in objects if obj.is_marked}
    whole = [schema for schema in schemas if schema in marked and not foreign[schema]]
    one_by_one = [o for o in objects if o.schema not in whole and is_ours(o) and o.owner_name is None]

    blockers = _dependents(conn, [o.relation_oid for o in objects if is_ours(o) and o.relation_oid is not None])
    if blockers:
        raise ForeignObjectsError(
            "Nothing was dropped: objects that are not this project's depend on its tables and would be "
            f"dropped with them: {_listed(tuple(blockers))}. Drop them yourself or make them independent "
            "of the course's tables (e.g. `create table my_work.t as select * from my_work.my_view`), "
            "then run the command again."
        )
    with conn.cursor() as cur:
        for schema in whole:
            cur.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
        for obj in one_by_one:
            keyword = DROP_KEYWORDS.get(obj.relation_kind or "", "table")
            cur.execute(
                sql.SQL("drop {} if exists {}.{} cascade").format(
                    sql.SQL(keyword), sql.Identifier(obj.schema), sql.Identifier(obj.relation_name or "")
                )
            )
    return DropReport(
        schemas=tuple(whole),
        relations=tuple(f"{o.schema}.{o.relation_name}" for o in one_by_one),
        kept={schema: objects_ for schema, objects_ in foreign.items() if objects_},
    )
