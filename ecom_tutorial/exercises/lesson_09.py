"""Exercises of lesson 09, testing and docs: the rows a test rejects, what a change breaks, and three
things the learner builds: a singular test, a model with a contract and a unit test, and the repair of
a contract that a change broke.

Two checks go deeper than the engine's (build_checks.py), because a test can pass for the wrong reason:
the singular test of 09.3 must also FAIL on data that breaks its rule (its compiled SQL is run on a
copy of dim_customers where every customer signed up after ordering), and the unit test of 09.4 must
give rows on both sides of every band limit.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..compiling import compiled_code
from ..settings import Settings, load_settings
from . import Exercise, ExerciseError, Mistake, _AnswerDidNotRun, _fail, register, run_sql
from .build_checks import PROJECT, BuildExercise, ModelCheck, SingularTestCheck, UnitTestCheck, _Built, check_build
from .feedback import Verdict

MODEL = "stg_ecommerce__orders"
KNOWN_STATUSES = "('completed', 'shipped', 'pending', 'cancelled', 'returned')"
# The order section 3 of the lesson inserts to break the data (notebooks/solutions/09_testing_and_docs.ipynb).
BAD_ORDER_ID = -1
BAD_ORDER_STATUS = "lost_in_transit"


def _models(select: str, keep_self: bool = False) -> pd.DataFrame:
    """Model names that dbt itself selects for `select` (dbt ls), without MODEL unless keep_self."""
    from ..runner import run_dbt

    names = run_dbt(["ls", "--select", select, "--resource-type", "model", "--output", "name"], progress=False).raw
    models = sorted({str(name) for name in names or []} - (set() if keep_self else {MODEL}))
    return pd.DataFrame({"model": models})


def _rejected_rows(orders: str, status: str) -> str:
    """The orders (order_id, order_status) whose status the accepted_values test rejects, read from `orders`."""
    return f"select order_id, {status} as order_status from {orders} where {status} not in {KNOWN_STATUSES}"


# 09.1 is about the data as section 3 leaves it: with the bad order in it. Expected from the raw table
# plus that order, so the answer is the same before and after the repair cell deletes it: an empty
# result never passes (after the repair, the feedback says to insert the order again). `reads` rejects
# the raw table (it holds the same row): the test, and so the answer, reads the staging model.
REJECTED_ORDERS = f"""
    with

    orders as (
        select order_id, status from raw_data.orders
        union
        select {BAD_ORDER_ID} as order_id, '{BAD_ORDER_STATUS}' as status
    )

    {_rejected_rows("orders", "lower(trim(status))")}
"""

register(
    Exercise(
        id="09.1",
        title="Orders whose status the accepted_values test rejects",
        expected=REJECTED_ORDERS,
        key=("order_id",),
        reads=(MODEL,),
        mistakes=(
            Mistake(
                "Your query found nothing. Two possible causes: (1) you queried a mart: fact_orders and the other "
                "marts are tables built before the bad row was inserted, while the staging VIEW "
                "stg_ecommerce__orders shows raw_data.orders as it is now; query the staging model, as the test "
                "does. (2) The repair cell has deleted the bad order already: run the cell that inserts it "
                "(section 3) again, check, then repair.",
                _rejected_rows("{target}.fact_orders", "order_status"),
                detect=lambda attempt, expected: attempt.empty,
            ),
        ),
        hint=f"select ... from {MODEL} where order_status not in (the five statuses).",
        next_step="Compare with the compiled SQL of the accepted_values test shown above: it reads the same view "
        "and the same list of statuses, and groups the rejected values; your query returns the orders "
        "themselves (order_id, order_status) instead. If it returns nothing, run the cell that inserts the bad "
        "order again: the repair cell deletes it.",
    ),
    Exercise(
        id="09.2",
        title=f"Every model downstream of {MODEL}",
        expected=lambda: _models(f"{MODEL}+"),
        key=("model",),
        mistakes=(
            Mistake(
                "Only the direct children: the models that use those children are affected too. Keep "
                "following child_map until no new node appears.",
                lambda: _models(f"{MODEL}+1"),
            ),
            Mistake(
                f"Your list includes {MODEL} itself; the exercise asks for the models downstream of it.",
                lambda: _models(f"{MODEL}+", keep_self=True),
            ),
            Mistake(
                "A model with versions has one id per version (`model.<project>.finance_monthly_revenue.v1`): its "
                "name is all that follows `model.<project>.`, not the part after the last dot (`v1`).",
                # what that gives for a versioned model, whether or not the project has one yet (09.6)
                lambda: pd.concat([_models(f"{MODEL}+"), pd.DataFrame({"model": ["v1", "v2"]})]),
                detect=lambda attempt, expected: bool(attempt["model"].astype(str).str.fullmatch(r"v\d+").any()),
            ),
        ),
        hint="Walk manifest['child_map'] from the model's unique id, and keep the ids that start with 'model.'.",
        next_step="Keep two things: a set of ids seen and a list of ids to visit, starting with "
        f"'model.{PROJECT}.{MODEL}'. While the list is not empty, take an id out and add each of its "
        "child_map children that is not in the set to both. At the end keep the seen ids that start with "
        "'model.' (tests are children too) and take what follows `model.<project>.`.",
    ),
)


# --------------------------------------------------------------------------- build it: deeper checks


@dataclass(frozen=True)
class _CheckedFurther(BuildExercise):
    """A build exercise with one more, lesson-specific check, run once the engine's checks all pass."""

    further: Callable[[Settings], list[str]] | None = None

    def check(self, answer: Any = None, settings: Settings | None = None, every_run: bool = False) -> Verdict:
        settings = settings or load_settings()
        verdict = io.StringIO()
        try:
            with contextlib.redirect_stdout(verdict):
                passed = check_build(self, settings, every_run)
        except ExerciseError:  # strict mode: the engine's verdict, shown as it wrote it
            print(verdict.getvalue(), end="")
            raise
        problems = self.further(settings) if passed and self.further else []
        if problems:
            hint = [f"💡 Hint: {self.hint}"] if self.hint else []
            return _fail(self, [f"❌ {problem}" for problem in problems] + hint)
        print(verdict.getvalue(), end="")
        return passed


def _node(settings: Settings, unique_id: str) -> tuple[_Built, dict[str, Any]]:
    built = _Built.read(settings.dbt_target_dir)
    return built, built.nodes.get(unique_id) or {}


# 09.3: a singular test of a rule across two marts: no order placed before its customer signed up.
SIGNUP_TEST = SingularTestCheck("assert_no_order_before_signup", reads=("ref('fact_orders')", "ref('dim_customers')"))


def _signed_up_late(customers: dict[str, Any], orders: dict[str, Any]) -> str:
    """dim_customers as it would be if every customer with an order had signed up the day after their last one."""
    columns = run_sql(
        "select column_name from information_schema.columns "
        f"where table_schema = '{customers['schema']}' and table_name = "
        f"'{customers.get('alias') or customers['name']}' "
        "order by ordinal_position"
    )["column_name"]
    late = "latest.last_ordered_at + interval '1 day'"
    replaced = {
        "signed_up_at": f"coalesce({late}, customers.signed_up_at) as signed_up_at",
        "signup_date": f"cast(coalesce({late}, customers.signed_up_at) as date) as signup_date",
    }
    select = ",\n".join(replaced.get(column, f'customers."{column}"') for column in columns)
    return f"""
        select {select}
        from {customers["relation_name"]} as customers
        left join (
            select customer_id, max(ordered_at) as last_ordered_at from {orders["relation_name"]} group by 1
        ) as latest on latest.customer_id = customers.customer_id
    """


def _test_can_fail(settings: Settings) -> list[str]:
    """Run the learner's compiled test on dim_customers broken on purpose: a test of the rule returns rows."""
    built, test = _node(settings, SIGNUP_TEST.unique_id)
    customers = built.nodes.get(f"model.{PROJECT}.dim_customers") or {}
    orders = built.nodes.get(f"model.{PROJECT}.fact_orders") or {}
    compiled = compiled_code(built.results.get(SIGNUP_TEST.unique_id) or {}) or compiled_code(test)
    relation = customers.get("relation_name")
    if not (compiled and relation and orders.get("relation_name") and relation in compiled):
        return []  # nothing to run it on: the engine's checks said what is missing
    broken = "customers_who_signed_up_after_ordering"
    sql = (
        f"with {broken} as ({_signed_up_late(customers, orders)})\n"
        f"select count(*) as failures from (\n{compiled.replace(relation, broken)}\n) as learner_test"
    )
    try:
        failures = int(run_sql(sql)["failures"].iloc[0])
    except _AnswerDidNotRun:
        return []
    if failures:
        return []
    return [
        f"Your test {SIGNUP_TEST.name} passes on the data, as it should, but it would pass just as well on data "
        "that breaks the rule: run on a dim_customers where every customer signed up the day after their last "
        "order, it returns no row. A test that cannot fail proves nothing: it must return the orders placed "
        "before their customer signed up."
    ]


register(
    _CheckedFurther(
        id="09.3",
        title="Build it: a singular test of a rule across two marts",
        models=(SIGNUP_TEST,),
        build=f'run_dbt(["build", "--select", "{SIGNUP_TEST.name}"])',
        further=_test_can_fail,
        hint="Join fact_orders to dim_customers on customer_id and return the orders whose ordered_at is before "
        "the customer's signed_up_at; the test passes when there is none.",
        next_step="Shape it like tests/assert_order_totals_match_line_items.sql: two import CTEs with "
        "{{ ref('fact_orders') }} and {{ ref('dim_customers') }}, a CTE that joins them and keeps the offending "
        "orders (with the columns you need to investigate: order_id, customer_id, both timestamps), then "
        "`select * from` it. Build it with `dbt build --select` and its name: dbt runs it after both models.",
    ),
)


# 09.4: a model with an enforced contract and a unit test of its band limits.
SIZE_BANDS = "order_size_bands"
SIZE_BAND_RULE = {"empty": "units = 0", "single": "units = 1", "small": "units between 2 and 5", "bulk": "units >= 6"}
BAND_LIMITS = (0, 1, 2, 5, 6)  # both sides of every limit between bands: the values a unit test must give
BANDS_UNIT_TEST = UnitTestCheck("order_size_bands_at_the_band_limits", SIZE_BANDS, inputs=("ref('fact_orders')",))


def _size_bands(small_up_to: int) -> str:
    """Each order of fact_orders with its band; `small_up_to` is the largest number of units a small order has."""
    return f"""
        select
            order_id,
            units,
            order_total,
            case
                when units = 0 then 'empty'
                when units = 1 then 'single'
                when units <= {small_up_to} then 'small'
                else 'bulk'
            end as size_band
        from {{target}}.fact_orders
    """


def _rows(rows: Any) -> list[dict[str, Any]]:
    """A unit test's `rows:`, written as a list of dicts (format dict) or as CSV text (format csv)."""
    if isinstance(rows, str):
        return list(csv.DictReader(io.StringIO(rows.strip())))
    return [row for row in rows or [] if isinstance(row, dict)]


def _whole_numbers(values: list[Any]) -> set[int]:
    found = set()
    for value in values:
        with contextlib.suppress(TypeError, ValueError):
            found.add(int(str(value).strip()))
    return found


def _limits_covered(settings: Settings) -> list[str]:
    """The unit test gives orders on both sides of every band limit and expects every band."""
    _, node = _node(settings, BANDS_UNIT_TEST.unique_id)
    given = [
        row
        for item in node.get("given") or []
        if str(item.get("input", "")).replace('"', "'").replace(" ", "") == "ref('fact_orders')"
        for row in _rows(item.get("rows"))
    ]
    problems = []
    missing = sorted(set(BAND_LIMITS) - _whole_numbers([row.get("units") for row in given]))
    if missing:
        problems.append(
            f"The unit test {BANDS_UNIT_TEST.name} gives no order with {', '.join(map(str, missing))} unit(s). A "
            "unit test earns its keep at the limits: give an order on each side of every limit between two bands "
            "(a `<` written for a `<=` moves only the order ON the limit), "
            "and the order without lines that the real data does not have."
        )
    expected_bands = {str(row.get("size_band", "")).strip() for row in _rows((node.get("expect") or {}).get("rows"))}
    absent = [band for band in SIZE_BAND_RULE if band not in expected_bands]
    if absent:
        problems.append(f"The unit test {BANDS_UNIT_TEST.name} expects no order in the band(s) {', '.join(absent)}.")
    return problems


register(
    _CheckedFurther(
        id="09.4",
        title="Build it: a model with an enforced contract, and its unit test",
        models=(
            ModelCheck(
                name=SIZE_BANDS,
                materialized="table",
                reads=("ref('fact_orders')",),
                contract=True,
                expected=_size_bands(small_up_to=5),
                key=("order_id",),
                mistakes=(
                    Mistake(
                        "Orders with exactly 5 units are in the wrong band: a small order has 2 to 5 units, both "
                        "included. Check the comparison at that limit (`<` or `<=`?); your unit test should have "
                        "caught it: give it an order on each side of the limit.",
                        _size_bands(small_up_to=4),
                    ),
                    Mistake(
                        "Orders with exactly 6 units are in the wrong band: bulk starts at 6 units. Check the "
                        "comparison at that limit (`<` or `<=`?), and give your unit test an order on each side of it.",
                        _size_bands(small_up_to=6),
                    ),
                ),
            ),
            BANDS_UNIT_TEST,
        ),
        build=f'run_dbt(["build", "--select", "{SIZE_BANDS}"])',
        further=_limits_covered,
        hint="A `case when` on units gives the band. In the YAML: `config: {contract: {enforced: true}}` under the "
        "model, a `data_type` on every column, and under `unit_tests:` one test whose `given:` mocks "
        "ref('fact_orders') with a few orders and whose `expect:` lists each order's band.",
        next_step="Run `dbt build --select order_size_bands`: dbt runs the unit test first, then builds the table "
        "and checks the contract. A contract error prints a table of the columns that differ (name, type in the SQL, "
        "type in the YAML): align the YAML's data_type with what PostgreSQL returns (a sum of integers is a bigint). "
        "A failing unit test prints the expected rows (+) next to those the model returned (-). In `given:`, "
        "only the columns the model reads are needed (order_id, units, order_total).",
    ),
)


# 09.5: a contract that a change to the SQL broke; the contract is right, the SQL must be fixed.
REVENUE_SUMMARY = "customer_revenue_summary"


def _revenue_summary(first_order: str = "min(date_key)", revenue_name: str = "lifetime_revenue") -> str:
    return f"""
        select
            customer_id,
            count(*) as revenue_orders,
            {first_order} as first_order_date,
            sum(recognized_revenue) as {revenue_name}
        from {{target}}.fact_orders
        where is_revenue
        group by 1
    """


def _has_times(attempt: pd.DataFrame, expected: pd.DataFrame) -> bool:
    """first_order_date holds timestamps with a time of day: the contract was changed to fit the SQL."""
    values = pd.to_datetime(attempt.get("first_order_date", pd.Series(dtype="datetime64[ns]")), errors="coerce")
    return bool((values.dropna() != values.dropna().dt.normalize()).any())


CONTRACT_CHANGED = (
    "The dashboard that reads {model} relies on its contract: the column names and types in the YAML. You "
    "changed the YAML to fit the SQL, so the build passes, but the promise is broken the other way: "
)

register(
    BuildExercise(
        id="09.5",
        title="Debug it: a contract that the SQL breaks",
        models=(
            ModelCheck(
                name=REVENUE_SUMMARY,
                materialized="table",
                reads=("ref('fact_orders')",),
                contract=True,
                expected=_revenue_summary(),
                key=("customer_id",),
                mistakes=(
                    Mistake(
                        CONTRACT_CHANGED.format(model=REVENUE_SUMMARY) + "first_order_date holds timestamps, and "
                        "a column named _date is a date. Fix the SQL, not the contract.",
                        detect=_has_times,
                        example=_revenue_summary(first_order="min(ordered_at)"),
                    ),
                    Mistake(
                        CONTRACT_CHANGED.format(model=REVENUE_SUMMARY) + "the dashboard asks for lifetime_revenue. "
                        "Fix the SQL, not the contract.",
                        detect=lambda attempt, expected: "revenue" in attempt.columns,
                        example=_revenue_summary(revenue_name="revenue"),
                    ),
                ),
            ),
        ),
        build=f'run_dbt(["build", "--select", "{REVENUE_SUMMARY}"])',
        debugging=True,
        hint="dbt's table lists each column that differs, with the type the SQL returns (definition_type) and the "
        "type the YAML promises (contract_type). The YAML is the promise consumers rely on: change the SQL.",
        next_step="Two rows of dbt's table: a column the contract has and the SQL does not (`missing in "
        "definition`) next to one the SQL has and the contract does not (`missing in contract`): the same column "
        "renamed, so give it its contract name with `as`. And a `data type mismatch` on first_order_date: the SQL "
        "takes the minimum of a timestamp column, while fact_orders also has the order's day as a date.",
    ),
)


# --------------------------------------------------------------------------- 09.6: governance


GROUP, PRIVATE_STEP, GOVERNED = "finance", "int_finance__monthly_revenue", "finance_monthly_revenue"


def _monthly_revenue(columns: str = "revenue, orders") -> str:
    return f"""
        select month_start_date, {columns}
        from (
            select
                cast(date_trunc('month', date_key) as date) as month_start_date,
                sum(recognized_revenue) as revenue,
                count(*) filter (where is_revenue) as orders
            from {{target}}.fact_orders
            group by 1
        ) as monthly
    """


def _governed(version: int, columns: str) -> ModelCheck:
    return ModelCheck(
        name=f"{GOVERNED}.v{version}",
        materialized="table",
        reads=(f"ref('{PRIVATE_STEP}')",),
        config=(("group", GROUP), ("access", "public")),
        contract=True,
        expected=_monthly_revenue(columns),
        key=("month_start_date",),
    )


def _versions_declared(settings: Settings) -> list[str]:
    """Version 2 is the latest, version 1 keeps its old shape and has a date it goes away."""
    built = _Built.read(settings.dbt_target_dir)
    first = built.nodes.get(f"model.{PROJECT}.{GOVERNED}.v1") or {}
    second = built.nodes.get(f"model.{PROJECT}.{GOVERNED}.v2") or {}
    problems = []
    if str(second.get("latest_version")) != "2":
        problems.append(f"Declare `latest_version: 2` on {GOVERNED}: a `ref('{GOVERNED}')` then reads version 2.")
    if not first.get("deprecation_date"):
        problems.append(
            "Give version 1 a `deprecation_date`: the day its readers must have moved to version 2 (dbt warns them)."
        )
    if "orders" in (first.get("columns") or {}):
        problems.append(
            "Version 1 keeps its old shape, without orders: its readers' contract has two columns "
            "(`columns: - include: all, exclude: [orders]` under `- v: 1`)."
        )
    return problems


register(
    _CheckedFurther(
        id="09.6",
        title="Build it: a governed mart, private step, public versions",
        models=(
            ModelCheck(
                name=PRIVATE_STEP,
                materialized="view",
                reads=("ref('fact_orders')",),
                config=(("group", GROUP), ("access", "private")),
                expected=_monthly_revenue(),
                key=("month_start_date",),
            ),
            _governed(1, "revenue"),
            _governed(2, "revenue, orders"),
        ),
        build=f'run_dbt(["build", "--select", "{PRIVATE_STEP}+"])',
        further=_versions_declared,
        hint=f"A group `{GROUP}` (groups: with an owner), the step `{PRIVATE_STEP}` with group and `access: private`, "
        f"and {GOVERNED} with `access: public`, an enforced contract and `versions:` 1 and 2 (`latest_version: 2`).",
        next_step=f"Write {PRIVATE_STEP}.sql (monthly revenue and revenue orders from fact_orders), "
        f"{GOVERNED}_v1.sql (month_start_date and revenue) and {GOVERNED}_v2.sql (the same with orders), "
        "each reading the private step with ref(); one YAML file declares the group, both models' config, the "
        "columns with their data_type, and under `versions:` version 1 with `deprecation_date` and "
        "`columns: [{include: all, exclude: [orders]}]`.",
    ),
)


# --------------------------------------------------------------------------- 09.7: slim CI with dbt clone


PULL_REQUEST_MODEL = "order_status_summary"
CI_TARGET = "ci"  # profiles.yml: the same server, one schema of its own (generate_schema_name.sql)
PRODUCTION_STATE = "prod_state"  # in dbt's target folder: production's manifest.json


def save_production_state(settings: Settings | None = None) -> str:
    """Write production's manifest.json into `<target folder>/prod_state` and return that folder.

    A CI job downloads it from production's last run. Here production is the learner's own warehouse, and its
    manifest is the project as it is without the pull request's model: so a second run of the exercise still
    finds that model new. The project is parsed in a temporary copy; the learner's files are never touched.
    """
    import dataclasses
    import shutil
    import tempfile
    from pathlib import Path

    from ..runner import run_dbt

    settings = settings or load_settings()
    state = settings.dbt_target_dir / PRODUCTION_STATE
    with tempfile.TemporaryDirectory(prefix="ecom-production-") as folder:
        copy = dataclasses.replace(settings, project_dir=Path(folder))  # profiles.yml and dbt_project/, as here
        shutil.copy2(settings.project_dir / "profiles.yml", copy.project_dir)
        ignore = shutil.ignore_patterns("target", "logs")
        shutil.copytree(settings.dbt_project_dir, copy.dbt_project_dir, symlinks=True, ignore=ignore)
        for path in copy.dbt_project_dir.glob(f"models/workspace/{PULL_REQUEST_MODEL}.*"):
            path.unlink()
        run_dbt(["parse", "--target-path", str(state)], progress=False, settings=copy)
    return str(state)


def _clone_reads(settings: Settings, ci_schema: str) -> dict[str, str]:
    """Each view of the CI schema with the schema of the production relation it reads (a clone, on PostgreSQL)."""
    from ..database import connection, connection_info

    with connection(connection_info(settings)) as conn, conn.cursor() as cur:
        cur.execute(
            "select view_name, min(table_schema) from information_schema.view_table_usage "
            "where view_schema = %s group by view_name",
            (ci_schema,),
        )
        return dict(cur.fetchall())


def _slim_ci_problems(settings: Settings) -> list[str]:
    """The last command was the CI build of the pull request alone, on clones of production."""
    built = _Built.read(settings.dbt_target_dir)
    args = built.args
    if args.get("target") != CI_TARGET:
        target = args.get("target") or "dev"  # none given: the profile's default (profiles.yml)
        return [f"Your last dbt command ran in the target {target!r}: build the pull request in CI, `--target ci`."]
    selected = " ".join(args.get("select") or [])
    if "state:modified" not in selected or not args.get("state"):
        return [
            f"Your CI build selected `{selected}`: select what the pull request changed and what depends on it, "
            "`--select state:modified+`, compared with production's state (`--state prod_state`, the folder "
            "save_production_state() returns)."
        ]
    others = sorted(
        unique_id.split(".")[-1]
        for unique_id in built.results
        if unique_id.startswith("model.") and unique_id != f"model.{PROJECT}.{PULL_REQUEST_MODEL}"
    )
    if others:
        return [
            f"Your CI build rebuilt {len(others)} model(s) besides the pull request's ({', '.join(others[:3])}, ...): "
            "they differ from production's state, which is older than the project (a macro or a model changed "
            "since it was saved). Save production's state again, then clone and build again."
        ]
    ci_schema = (built.nodes.get(f"model.{PROJECT}.{PULL_REQUEST_MODEL}") or {}).get("schema", "")
    clones = _clone_reads(settings, ci_schema)
    if clones.get("fact_orders") != settings.db_schema:
        return [
            f"{ci_schema} has no clone of production's fact_orders: run `dbt clone --target ci --select "
            "+state:modified --state ...` before the CI build, so that the pull request's model reads production's "
            "data from the CI schema."
        ]
    return []


register(
    _CheckedFurther(
        id="09.7",
        title="Build it: slim CI, a pull request's model on clones of production",
        models=(
            ModelCheck(
                name=PULL_REQUEST_MODEL,
                materialized="view",
                reads=("ref('fact_orders')",),
                described=False,
                expected="""
                    select order_status, count(*) as orders, sum(order_total) as revenue
                    from {target}.fact_orders
                    group by 1
                """,
                key=("order_status",),
            ),
        ),
        build='run_dbt(["build", "--target", "ci", "--select", "state:modified+", "--state", prod_state])',
        further=_slim_ci_problems,
        hint="Three steps, in order: prod_state = save_production_state(); "
        'run_dbt(["clone", "--target", "ci", "--select", "+state:modified", "--state", prod_state]); then the CI '
        "build of what changed.",
        next_step=f"{PULL_REQUEST_MODEL}.sql reads ref('fact_orders') and groups by order_status: count(*) as "
        "orders, sum(order_total) as revenue. Then `clone` and `build` with `--target ci` and `--state prod_state`: "
        "the clone selects `+state:modified` (what the change reads), the build `state:modified+` (the change and "
        "what reads it).",
    ),
)
