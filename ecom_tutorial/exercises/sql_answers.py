"""Turning a learner's answer into a table, and reading what its SQL does.

An answer is SQL (Jinja such as `{{ ref('x') }}` is compiled by dbt first). It runs read-only on the
warehouse (checking never writes), and its compiled text is parsed with sqlglot (PostgreSQL dialect)
so the feedback can see what it reads and recognise a mistake by its cause. The small predicates at
the end (`reads_relation`, `uses_function`, `has_window_without_partition`) are for lesson authors'
`Mistake(in_sql=...)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .registry import ResultSource, SqlPredicate

# Schemas that are PostgreSQL's own, not the warehouse: reading only them is not querying the data.
SYSTEM_SCHEMAS = {"pg_catalog", "information_schema"}


class _NotAttempted(Exception):
    pass


class _AnswerDidNotRun(Exception):
    pass


def _only_comments(sql: str) -> bool:
    lines = [line.strip() for line in sql.strip().splitlines()]
    return all(not line or line.startswith("--") for line in lines)


_ONE_SELECT = "an exercise answer is one SELECT (or WITH ... SELECT)"


# What dbt says when Jinja runs SQL while compiling without a connection (--no-introspect): the first where the
# thread had one that is closed, the second where it never had one (which of the two depends on dbt's thread).
_NO_CONNECTION = ("connection already closed", "connection never acquired")


def _compile_jinja(sql: str) -> str:
    """Render {{ ref() }}, {{ source() }} and macros with dbt, as `dbt compile --inline` does.

    dbt's own message is kept whole when it cannot (runner.py passes it through, with advice that fits).
    """
    from ..compiling import compile_inline
    from ..errors import DbtRunError

    try:
        return compile_inline(sql, introspect=False)  # no connection: Jinja such as run_query() cannot write
    except (DbtRunError, ValueError) as exc:
        if any(said in str(exc) for said in _NO_CONNECTION):
            raise _AnswerDidNotRun(
                "Checking never writes: your Jinja runs SQL while it compiles (run_query, statement, ...); "
                f"{_ONE_SELECT}, with Jinja such as {{{{ ref('...') }}}} at most."
            ) from exc
        raise _AnswerDidNotRun(f"dbt could not compile your SQL.\n{exc}") from exc


# How a query may begin; anything else (DROP, COMMIT, SET, ...) is refused before it reaches the server.
_QUERY_STARTS = {"SELECT", "WITH", "VALUES", "TABLE", "L_PAREN"}
# Tokens that write inside a query: `with x as (delete ... returning *) select`, `select ... into t`.
_WRITES_INSIDE = {"INSERT", "UPDATE", "DELETE", "MERGE", "INTO", "TRUNCATE", "COPY", "CREATE", "DROP", "ALTER", "GRANT"}
_LOCKING = {"FOR", "KEY", "NO"}  # `for update`, `for no key update`: a lock, not a write (read-only refuses it)
# Statements that end or change the transaction rather than write: name a real write first if there is one.
_TRANSACTION_CONTROL = {"COMMIT", "ROLLBACK", "BEGIN", "START", "END", "ABORT", "SET", "RESET", "SAVEPOINT", "RELEASE"}


def _statements(text: str) -> list[list[Any]]:
    """The statements of `text`, each as its sqlglot tokens (lexed as PostgreSQL lexes it)."""
    import sqlglot
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.tokenize(text, read="postgres")
    except (SqlglotError, ValueError) as exc:
        raise _AnswerDidNotRun(
            f"Could not read your SQL ({exc}): check that every quote and comment is closed."
        ) from exc
    statements: list[list[Any]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _not_a_query(tokens: list[Any]) -> str | None:
    """What a statement does instead of only reading (e.g. "DROP"), or None for a plain query."""
    if tokens[0].token_type.name not in _QUERY_STARTS:
        return tokens[0].text.upper()
    for previous, token in zip([None, *tokens], tokens, strict=False):
        kind = token.token_type.name
        if kind in _WRITES_INSIDE and not (kind == "UPDATE" and previous and previous.token_type.name in _LOCKING):
            return "SELECT ... INTO a table" if kind == "INTO" else token.text.upper()
    return None


def _refuse_unless_one_query(text: str) -> None:
    """Checking never writes: refuse anything but a single query, naming what the SQL tries to do."""
    statements = _statements(text)
    refused = []
    for tokens in statements:
        verb = _not_a_query(tokens)
        if verb is not None:
            snippet = " ".join(text[tokens[0].start : tokens[-1].end + 1].split())
            refused.append((verb, snippet if len(snippet) <= 70 else snippet[:67] + "..."))
    if refused:
        verb, snippet = next((r for r in refused if r[0] not in _TRANSACTION_CONTROL), refused[0])
        raise _AnswerDidNotRun(f"Checking never writes: your SQL tries to {verb} (`{snippet}`); {_ONE_SELECT}.")
    if len(statements) > 1:
        raise _AnswerDidNotRun(f"Your SQL has {len(statements)} statements: {_ONE_SELECT}. Remove the others.")


def prepare_sql(sql: str) -> str:
    """The SQL that would run: Jinja compiled, `{target}` replaced, raw_data the learner's (Settings.in_raw_schema);
    refused unless it is one query."""
    from ..settings import load_settings

    settings = load_settings()
    text = sql.strip().rstrip(";")
    if "{{" in text or "{%" in text:
        text = _compile_jinja(text)
    text = settings.in_raw_schema(text.replace("{target}", settings.db_schema))
    _refuse_unless_one_query(text)
    return text


def run_sql(sql: str) -> pd.DataFrame:
    """Run a SELECT on the warehouse (`{target}` is replaced by the dbt target schema).

    The text goes to PostgreSQL as written, with no parameter parsing, so `'HH24:MI'` or
    `like 'a%'` mean what they mean in psql. Checking never writes: the SQL must be one query (no
    second statement, no COMMIT or SET that could end or lift the read-only mode), it runs in a
    read-only transaction on a session whose default is read-only, and that transaction is rolled back.
    """
    return _execute(prepare_sql(sql))


def _execute(text: str) -> pd.DataFrame:
    """Run prepared SQL (`prepare_sql`) read-only, rolled back."""
    import psycopg2
    from psycopg2 import sql as pgsql

    from ..database import connect
    from ..settings import load_settings

    settings = load_settings()
    conn = connect()
    try:
        with conn.cursor() as cur:
            # standard_conforming_strings: the server reads quotes as the check above did; the
            # search path lets an answer name a model without its schema, as the notebooks do.
            cur.execute(
                pgsql.SQL(
                    "set default_transaction_read_only = on; set standard_conforming_strings = on; "
                    "set search_path to {}; set transaction read only"
                ).format(pgsql.SQL(", ").join(map(pgsql.Identifier, settings.search_path)))
            )
            cur.execute(text)
            if cur.description is None:
                raise _AnswerDidNotRun("Your SQL returned no table: write a single SELECT (or WITH ... SELECT).")
            columns = [column.name for column in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    except psycopg2.Error as exc:
        message = (exc.pgerror or str(exc)).strip().splitlines()[0]
        raise _AnswerDidNotRun(f"PostgreSQL could not run your SQL:\n    {message}") from exc
    finally:
        conn.rollback()
        conn.close()


def _resolve(source: ResultSource) -> pd.DataFrame:
    """A reference result: its SQL run on the warehouse, or its function called."""
    if callable(source):
        return source()
    return run_sql(source)


# --------------------------------------------------------------------------- the answer and its SQL


@dataclass
class Answer:
    """A learner's answer: the table it gives and, for SQL, the text as written, as compiled, and parsed."""

    table: pd.DataFrame
    raw: str | None = None  # as the learner wrote it (Jinja and all)
    sql: str | None = None  # as it ran
    tree: Any = None  # sqlglot's parse of `sql`; None if no SQL or sqlglot cannot read it
    relations: list[str] = field(default_factory=list)  # what `tree` reads: "schema.name" or "name"


def parse(sql: str) -> Any:
    """sqlglot's tree of one PostgreSQL query, or None if sqlglot cannot read it (PostgreSQL may still)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(sql, read="postgres")
    except (SqlglotError, ValueError, RecursionError):
        return None


def relations_read(tree: Any) -> list[str]:
    """The tables and views a query reads ("schema.name" or "name", lower case), in order, once each.

    CTE names are not relations (a CTE's own body may still read a table of the same name);
    table functions (generate_series, unnest) and VALUES read no relation.
    """
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    try:
        tables = [
            source
            for scope in traverse_scope(tree)
            for source in scope.sources.values()
            if isinstance(source, exp.Table)
        ]
    except Exception:  # noqa: BLE001 - sqlglot's scope analysis fails on some queries: fall back to a plain walk
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        tables = [table for table in tree.find_all(exp.Table) if table.name.lower() not in ctes or table.db]
    names: list[str] = []
    for table in tables:
        if not isinstance(table.this, exp.Identifier):
            continue  # a function in FROM: generate_series(...), unnest(...)
        name = f"{table.db}.{table.name}".lower() if table.db else table.name.lower()
        if name not in names:
            names.append(name)
    return names


def reads_warehouse(relations: list[str]) -> bool:
    """At least one relation read is the warehouse's, not only PostgreSQL's catalog (pg_class, ...)."""
    for name in relations:
        schema, _, table = name.rpartition(".")
        if schema not in SYSTEM_SCHEMAS and not (not schema and table.startswith("pg_")):
            return True
    return False


def sql_answer(raw: str) -> Answer:
    """Run an SQL answer and parse what it ran."""
    text = prepare_sql(raw)
    table = _execute(text)
    tree = parse(text)
    return Answer(table, raw, text, tree, relations_read(tree) if tree is not None else [])


def _resultset_sql(answer: Any) -> str | None:
    """The SQL a JupySQL result (`%sql result << select ...`) ran, if it kept it."""
    statement = getattr(answer, "_statement", None)
    return statement if isinstance(statement, str) and statement.strip() else None


def read_answer(answer: Any, sql_required: bool) -> Answer:
    """The learner's answer as a table (and SQL); raises _NotAttempted for an untouched stub.

    `sql_required`: the exercise is answered with SQL, so a DataFrame (which could be typed in) is refused.
    """
    if answer is None or answer is Ellipsis:
        raise _NotAttempted
    if isinstance(answer, str):
        if _only_comments(answer):
            raise _NotAttempted
        return sql_answer(answer)
    if hasattr(answer, "DataFrame") and _resultset_sql(answer):  # a JupySQL ResultSet: check the SQL it ran
        return sql_answer(_resultset_sql(answer) or "")
    if isinstance(answer, (pd.DataFrame, pd.Series)) or hasattr(answer, "DataFrame"):
        if sql_required:
            raise _AnswerDidNotRun(
                "check() needs your SQL, not its result: a table can be typed in, a query shows how the result "
                'is computed from the warehouse. Pass the query as a string: answer = """select ...""".'
            )
        if isinstance(answer, pd.Series):
            return Answer(answer.to_frame())
        return Answer(answer if isinstance(answer, pd.DataFrame) else answer.DataFrame())
    what = "your SQL as a string" if sql_required else "your result as a DataFrame"
    raise _AnswerDidNotRun(f"check() takes {what}, not a {type(answer).__name__}.")


# --------------------------------------------------------------------------- reading the raw answer


_JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_JINJA_OTHER = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)
JINJA_PLACEHOLDER = "__jinja_expression__"


def bare_relations(raw: str) -> list[str] | None:
    """The relations the raw answer names directly (not through `{{ ref() }}` / `{{ source() }}`).

    None if sqlglot cannot read the raw text once its Jinja is set aside.
    """
    counter = iter(range(1_000_000))
    text = _JINJA_EXPRESSION.sub(lambda _: f"{JINJA_PLACEHOLDER}{next(counter)}", _JINJA_OTHER.sub(" ", raw))
    tree = parse(text.strip().rstrip(";"))
    if tree is None:
        return None
    return [name for name in relations_read(tree) if not name.rpartition(".")[2].startswith(JINJA_PLACEHOLDER)]


# --------------------------------------------------------------------------- predicates for Mistake(in_sql=...)


def reads_relation(name: str) -> SqlPredicate:
    """True if the SQL reads the table or view `name` ("dim_date", or "raw_data.orders"), in any schema
    unless one is given. E.g. a mistake of "not starting from the calendar":
    `in_sql=lambda tree: not reads_relation("dim_date")(tree)`."""
    wanted = name.lower()

    def predicate(tree: Any) -> bool:
        read = relations_read(tree)
        return wanted in read if "." in wanted else any(item.rpartition(".")[2] == wanted for item in read)

    return predicate


def uses_function(name: str) -> SqlPredicate:
    """True if the SQL calls the function `name` anywhere (case-insensitive): `uses_function("max")`,
    `uses_function("row_number")`."""
    from sqlglot import exp

    wanted = name.lower()

    def predicate(tree: Any) -> bool:
        for function in tree.find_all(exp.Func):
            called = function.name if isinstance(function, exp.Anonymous) else function.sql_name()
            if str(called).lower() == wanted:
                return True
        return False

    return predicate


def has_window_without_partition() -> SqlPredicate:
    """True if a window function has no PARTITION BY: it then runs over the whole result, e.g. a running
    total or a rank that should restart for each customer or product."""
    from sqlglot import exp

    def predicate(tree: Any) -> bool:
        return any(not window.args.get("partition_by") for window in tree.find_all(exp.Window))

    return predicate
