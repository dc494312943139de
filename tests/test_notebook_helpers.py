"""The helpers the notebooks call: charts, lineage, environment check, file display, learner copies."""

from __future__ import annotations

from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ecom_tutorial import charts, display, environment, learner_copies, lineage, notebooks  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures() -> None:
    yield
    plt.close("all")


# --------------------------------------------------------------------------- charts


def test_bar_chart_draws_one_bar_per_row_with_title_units_and_money_ticks() -> None:
    data = pd.DataFrame(
        {
            "category": ["Books", "Toys", "Electronics"],
            "revenue": [Decimal("1500.5"), Decimal("2500"), Decimal("12000000")],
        }
    )
    ax = charts.bar(
        data,
        "category",
        "revenue",
        title="Revenue per category",
        xlabel="Category",
        ylabel="Revenue ($)",
        money=True,
        annotate=True,
    )
    assert ax.get_title() == "Revenue per category"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Category", "Revenue ($)")
    assert len(ax.patches) == 3
    assert sorted(round(p.get_height(), 1) for p in ax.patches) == [1500.5, 2500.0, 12000000.0]
    assert ax.yaxis.get_major_formatter()(2_500_000, 0) == "$2.5M"
    assert ax.yaxis.get_major_formatter()(2_500, 0) == "$2.5k"
    assert [t.get_text() for t in ax.texts] == ["$1,500", "$2,500", "$12,000,000"]


def test_segment_sizes_sorts_largest_first_and_labels_counts_and_shares() -> None:
    data = pd.DataFrame({"rfm_segment": ["New", "Champions", "Loyal"], "customers": [10, 60, 30]})
    ax = charts.segment_sizes(data)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Champions", "Loyal", "New"]
    assert [t.get_text() for t in ax.texts] == ["60 (60%)", "30 (30%)", "10 (10%)"]
    assert ax.get_xlabel() == "Customers (count)"


def test_rfm_heatmap_pivots_long_data_best_score_on_top() -> None:
    data = pd.DataFrame({"recency_score": [1, 1, 5], "frequency_score": [1, 5, 5], "customers": [7, 2, 9]})
    ax = charts.rfm_heatmap(data)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5", "1"]
    assert sorted(t.get_text() for t in ax.texts) == ["2", "7", "9"]  # the empty cell is not annotated
    assert "1 = lowest" in ax.get_xlabel() and "Recency" in ax.get_ylabel()


def test_distribution_marks_the_median() -> None:
    data = pd.DataFrame({"lifetime_value": [Decimal(v) for v in (10, 20, 30, 1000)]})
    ax = charts.distribution(data, "lifetime_value", title="LTV", xlabel="Lifetime value ($)", money=True)
    assert ax.get_legend().get_texts()[0].get_text() == "median $25"
    assert ax.get_ylabel() == "Count"


def test_revenue_and_margin_has_two_axes_with_units() -> None:
    data = pd.DataFrame({"category": ["A", "B"], "revenue": [100.0, 300.0], "margin_pct": [40.0, 20.0]})
    ax = charts.revenue_and_margin(data)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["B", "A"]
    assert ax.get_ylabel() == "Revenue ($)"
    assert ax.right_ax.get_ylabel() == "Profit margin (% of revenue)"
    assert list(ax.right_ax.lines[0].get_ydata()) == [20.0, 40.0]


def test_top_bottom_draws_two_panels() -> None:
    data = pd.DataFrame({"product": [f"p{i}" for i in range(30)], "revenue": range(30)})
    fig = charts.top_bottom(data, "product", "revenue", n=5, title="Products", xlabel="Revenue ($)")
    top, bottom = fig.axes
    assert [t.get_text() for t in top.get_yticklabels()] == ["p29", "p28", "p27", "p26", "p25"]
    assert [t.get_text() for t in bottom.get_yticklabels()] == ["p0", "p1", "p2", "p3", "p4"]


def test_time_series_charts_read_the_column_names_of_the_marts() -> None:
    days = pd.date_range("2024-01-01", "2024-03-31", freq="D")
    daily = pd.DataFrame({"date_key": days.date, "total_revenue": [Decimal("100.5")] * len(days)})
    ax = charts.daily_revenue(daily)  # orders_daily's columns, no mapping needed
    assert ax.get_ylabel() == "Revenue ($ per day)"
    assert list(ax.lines[0].get_ydata()) == [100.5] * len(days)
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    monthly = pd.DataFrame(
        {"month_start_date": months.date, "total_revenue": range(len(months)), "days_in_month": months.days_in_month}
    )
    ax = charts.monthly_seasonality(monthly)  # orders_monthly's columns
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["2023", "2024"]
    assert ax.get_ylabel() == "Revenue ($ per month)"


def test_charts_name_a_missing_column() -> None:
    with pytest.raises(KeyError, match="no column.*revenue"):
        charts.bar(pd.DataFrame({"x": [1]}), "x", "revenue", title="t", xlabel="x", ylabel="y")


# --------------------------------------------------------------------------- environment


def test_environment_check_reports_ok_rows_for_this_environment() -> None:
    table = environment.check_environment()
    assert list(table.columns) == environment.COLUMNS
    checks = set(table["check"])
    assert {"Python", "package dbt-core", "package dbt-postgres", "package seaborn", "dbt command on PATH"} <= checks
    assert (table["status"] == "OK").all(), table[table["status"] != "OK"].to_string()
    environment.require_ok(table)  # does not raise


def test_require_ok_lists_each_failure_with_its_fix() -> None:
    table = pd.DataFrame(
        [environment._row("package dbt-core", "~=1.11.0", "1.12.0", False, "pip install 'dbt-core~=1.11.0'")]
    )
    with pytest.raises(
        environment.EnvironmentCheckError, match=r"dbt-core: needs ~=1.11.0, found 1.12.0. Fix: pip install"
    ):
        environment.require_ok(table)
    assert "FAIL" in environment.styled(table).to_html()


# --------------------------------------------------------------------------- display


def test_show_file_finds_models_by_name_and_cuts_excerpts_by_text() -> None:
    whole = display.show_model("stg_ecommerce__orders").data
    assert whole.startswith("**`dbt_project/models/staging/stg_ecommerce__orders.sql`**")
    assert "```sql" in whole and "source('ecommerce', 'orders')" in whole
    excerpt = display.show_file(
        "models/staging/_stg_ecommerce__sources.yml", start="- name: orders", end="- name: order_date"
    ).data
    assert "```yaml" in excerpt
    body = excerpt.split("```yaml\n")[1]
    assert body.startswith("      - name: orders") and "order_date" not in body and "relationships" in body


def test_show_file_messages_say_what_to_do() -> None:
    with pytest.raises(FileNotFoundError, match="use a model name like"):
        display.project_file("no_such_model")
    with pytest.raises(ValueError, match="update the notebook"):
        display.show_file("stg_ecommerce__orders", start="this text is not in the file")


def test_docs_blocks_render_as_markdown() -> None:
    text = display.show_docs_block("rfm_scoring").data
    assert "{% docs" not in text and "Champions" in text
    with pytest.raises(ValueError, match="No docs block"):
        display.show_docs_block("no_such_block")


# --------------------------------------------------------------------------- learner copies


def _solution_notebook() -> nbformat.NotebookNode:
    code = nbformat.v4.new_code_cell
    solution = code(
        '# Exercise 01.1: one row per status\nanswer = """\n'
        'select status, count(*) as order_count\nfrom raw_data.orders\ngroup by 1\n"""'
    )
    solution.metadata["tags"] = ["solution"]
    explanation = nbformat.v4.new_markdown_cell("The solution, explained.")
    explanation.metadata["tags"] = ["solution"]
    ran = code("check('01.1', answer)")
    ran.outputs = [nbformat.v4.new_output("stream", text="✅")]
    ran.execution_count = 3
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), solution, ran, explanation])


def test_learner_copy_stubs_solutions_drops_explanations_and_strips_outputs() -> None:
    copy = learner_copies.learner_copy(_solution_notebook(), "01_sources.ipynb")
    assert [c.cell_type for c in copy.cells] == ["markdown", "code", "code"]
    stub = copy.cells[1]
    assert stub.source == "# Exercise 01.1: one row per status\nanswer = ...  # your SQL here"
    assert stub.metadata["tags"] == ["exercise"]
    assert copy.cells[2].outputs == [] and copy.cells[2].execution_count is None
    assert copy.metadata["ecom_tutorial"]["generated_from"] == "solutions/01_sources.ipynb"


def test_stub_source_covers_several_names_and_code_without_assignment() -> None:
    assert (
        learner_copies.stub_source("x = compute()\ny = 'select 1'")
        == "x = ...  # your code here\ny = ...  # your SQL here"
    )
    assert learner_copies.stub_source("# do it\nprint(1)") == "# do it\n# Write your code here."


def test_resolve_accepts_numbers_and_names_and_says_what_exists() -> None:
    all_notebooks = notebooks.series()
    assert all_notebooks, "no solution notebooks found"
    first = all_notebooks[0]
    assert notebooks.resolve([first.stem[:2]]) == [first]
    assert notebooks.resolve([first.name]) == [first]
    with pytest.raises(Exception, match="No notebook called 'nope'. The series has: 00_setup"):
        notebooks.resolve(["nope"])


# --------------------------------------------------------------------------- lineage (needs dbt's manifest)


@pytest.mark.usefixtures("built_warehouse")
def test_lineage_graph_layers_flow_left_to_right_and_selection_uses_dbt() -> None:
    graph = lineage.lineage_graph()
    names = {data["label"]: data for _, data in graph.nodes(data=True)}
    assert names["ecommerce.orders"]["layer"] == 0
    assert names["stg_ecommerce__orders"]["layer"] == 1
    assert names["int_customers__orders_agg"]["materialized"] == "ephemeral"
    # the two intermediates the lessons query are views (drawn filled, unlike the ephemeral one)
    assert names["int_products__sales_agg"]["materialized"] == names["int_orders__daily_agg"]["materialized"] == "view"
    assert names["int_orders__daily_agg"]["layer"] == lineage.LAYERS.index("intermediate")
    assert names["dim_customers"]["layer"] == lineage.LAYERS.index("marts: core")
    assert names["customer_analytics"]["layer"] == lineage.LAYERS.index("marts: analytics")
    for parent, child in graph.edges:
        assert graph.nodes[parent]["layer"] <= graph.nodes[child]["layer"], (parent, child)
    upstream = lineage.lineage_graph("+customer_analytics")
    labels = {data["label"] for _, data in upstream.nodes(data=True)}
    assert {
        "ecommerce.customers",
        "stg_ecommerce__orders",
        "int_customers__orders_agg",
        "dim_customers",
        "customer_analytics",
    } <= labels
    assert "product_performance" not in labels
    ax = lineage.draw_lineage(graph=upstream, title="t", highlight="customer_analytics")
    assert ax.get_title() == "t"
    assert {t.get_text() for t in ax.texts} >= labels | {"sources & seeds", "marts: analytics"}
    with pytest.raises(ValueError, match="matches no source"):
        lineage.draw_lineage(graph=lineage.lineage_graph(manifest={"nodes": {}, "sources": {}}))
