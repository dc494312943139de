"""dbt in-process: results table, progress bar, as_of_date, compiled SQL, queries, `%sql`."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from ecom_tutorial import compiled_sql, query, run_dbt, setup_sql_magic
from ecom_tutorial.runner import RESULT_COLUMNS


def test_results_table_has_one_row_per_node_with_rows_affected(built_warehouse, capfd, monkeypatch):
    monkeypatch.setattr("ecom_tutorial.runner.interactive", lambda: True)  # as in a terminal
    result = run_dbt(["run", "--select", "stg_ecommerce__products", "dim_products"])
    assert result.success and list(result.table.columns) == RESULT_COLUMNS
    by_node = result.table[result.table["type"] == "model"].set_index("node")
    assert set(by_node.index) == {"stg_ecommerce__products", "dim_products"}
    assert (by_node["status"] == "success").all() and (by_node["seconds"] >= 0).all()
    assert by_node.loc["dim_products", "rows"] == query("select count(*) as n from raw_data.products")["n"][0]
    assert result.summary() == "PASS=2 WARN=0 ERROR=0 SKIP=0 NO-OP=0 TOTAL=2"
    progress = capfd.readouterr().err
    assert "2/2" in progress, "the progress bar ticks once per node"


def test_as_of_date_defaults_to_the_last_order_date(built_warehouse):
    """dbt itself reads the day from the data (macro as_of_date): the runner passes no --vars."""
    last = query("select max(order_date)::date::text as d from raw_data.orders")["d"][0]
    assert f"cast('{last}' as date)" in compiled_sql("fact_orders")


def test_as_of_date_can_be_chosen_with_vars(built_warehouse, tmp_path):
    from conftest import run_dbt_in

    result = run_dbt_in(tmp_path, ["compile", "--select", "fact_orders"], vars={"as_of_date": "2023-06-30"})
    assert result.success
    compiled = next((tmp_path / "target" / "compiled").rglob("fact_orders.sql")).read_text()
    assert "cast('2023-06-30' as date)" in compiled


def test_compiled_sql_inlines_refs_and_ephemeral_models(built_warehouse):
    code = compiled_sql("dim_customers")
    assert "{{" not in code and "ref(" not in code
    assert '"analytics_dev_staging"."stg_ecommerce__customers"' in code
    with pytest.raises(Exception, match="spelling"):
        compiled_sql("dim_customer")


def test_query_binds_parameters(built_warehouse):
    frame = query("select customer_id from raw_data.customers where customer_id <= :n order by 1", {"n": 3})
    assert isinstance(frame, pd.DataFrame) and frame["customer_id"].tolist() == [1, 2, 3]


def test_sql_magic_is_connected_in_one_call(built_warehouse):
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    setup_sql_magic()
    result = shell.run_line_magic("sql", "select count(*) as n from raw_data.products")
    assert int(result.DataFrame()["n"][0]) == 100


def test_compiled_sql_of_a_full_refresh_has_no_incremental_filter(built_warehouse):
    incremental = compiled_sql("fact_order_items")
    full_refresh = compiled_sql("fact_order_items", full_refresh=True)
    # the incremental filter, with the table's high-water mark read from it and written in (high_water_mark.sql)
    high_water_mark = re.compile(r"loaded_at > cast\('\d{4}-\d\d-\d\d [^']+' as timestamptz\)")
    assert high_water_mark.search(incremental), incremental
    assert not high_water_mark.search(full_refresh)


def test_queries_search_the_schemas_of_the_target_in_the_settings(built_warehouse, monkeypatch):
    """Notebooks name no schema: a learner with another ECOM_DB_SCHEMA reads their own models."""
    monkeypatch.setenv("ECOM_DB_SCHEMA", "learner_seven")
    # the session searches learner_seven first; it does not exist yet, so there is no current schema
    assert query("select current_schema() as s")["s"][0] is None
    monkeypatch.setenv("ECOM_DB_SCHEMA", "analytics_dev")
    assert query("select current_schema() as s")["s"][0] == "analytics_dev"
    assert query("select count(*) as n from customer_analytics")["n"][0] > 0
