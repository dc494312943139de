"""The course's recurring charts, in one consistent style (seaborn on matplotlib).

Every function takes a DataFrame (usually straight from `ecom_tutorial.query`), draws one chart
with a title and axis labels that carry units, and returns the matplotlib Axes (or the Figure
when it draws several panels), so a lesson can still adjust it. PostgreSQL numerics arrive as
Decimal objects: the functions convert the columns they plot to floats themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

if TYPE_CHECKING:  # matplotlib.typing is new in 3.8
    from matplotlib.typing import ColorType

PALETTE = "deep"
ACCENT = sns.color_palette(PALETTE)[0]
SECOND = sns.color_palette(PALETTE)[1]
HEATMAP_COLORMAP = "crest"
FIGSIZE = (9, 4.5)


def _bars(ax: Axes) -> list[BarContainer]:
    """The bar groups seaborn drew on `ax` (what `bar_label` annotates)."""
    return [container for container in ax.containers if isinstance(container, BarContainer)]


def use_style() -> None:
    """The course's chart style: white grid, readable fonts, one palette."""
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)
    plt.rcParams.update({"figure.figsize": FIGSIZE, "axes.titleweight": "bold", "figure.dpi": 90})


def _numeric(data: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """A copy with `columns` as floats (PostgreSQL numeric arrives as Decimal)."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(f"The data has no column(s) {', '.join(missing)}; it has {', '.join(map(str, data.columns))}.")
    data = data.copy()
    for column in columns:
        data[column] = pd.to_numeric(data[column], errors="coerce").astype(float)
    return data


def _axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def money_axis(ax: Axes, axis: str = "y", currency: str = "$") -> None:
    """Format an axis as money with thousands separators (k and M for large values)."""

    def fmt(value: float, _position: int) -> str:
        size = abs(value)
        if size >= 1e6:
            return f"{currency}{value / 1e6:,.1f}".rstrip("0").rstrip(".") + "M"
        if size >= 1e3:
            return f"{currency}{value / 1e3:,.1f}".rstrip("0").rstrip(".") + "k"
        return f"{currency}{value:,.0f}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.FuncFormatter(fmt))


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Format an axis whose values are percentages (0-100) with a % sign."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.FuncFormatter(lambda v, _p: f"{v:,.0f}%"))


def count_axis(ax: Axes, axis: str = "y") -> None:
    """Format an axis of counts with thousands separators."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(mticker.FuncFormatter(lambda v, _p: f"{v:,.0f}"))


def bar(
    data: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    horizontal: bool = False,
    money: bool = False,
    order: Sequence[str] | None = None,
    annotate: bool = False,
    color: ColorType | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A bar chart of `y` per `x` (or per `y` bars along x when `horizontal`); `money` formats values as $."""
    value, label = (x, y) if horizontal else (y, x)
    data = _numeric(data, value)
    ax = _axes(ax)
    sns.barplot(data=data, x=x, y=y, order=order, color=color or ACCENT, ax=ax, errorbar=None)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if money:
        money_axis(ax, "x" if horizontal else "y")
    else:
        count_axis(ax, "x" if horizontal else "y")
    if annotate:
        fmt = (lambda v: f"${v:,.0f}") if money else (lambda v: f"{v:,.0f}")
        for container in _bars(ax):
            ax.bar_label(container, labels=[fmt(v) for v in np.asarray(container.datavalues)], padding=3, fontsize=9)
    if not horizontal and len(data[label].unique()) > 6:
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    return ax


def segment_sizes(
    data: pd.DataFrame,
    segment: str = "rfm_segment",
    count: str = "customers",
    *,
    title: str = "Customers per RFM segment",
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars, largest segment first, each labelled with its count and share of the total."""
    data = _numeric(data, count).sort_values(count, ascending=False)
    ax = _axes(ax)
    sns.barplot(data=data, y=segment, x=count, color=ACCENT, ax=ax, errorbar=None)
    total = data[count].sum()
    labels = [f"{v:,.0f} ({v / total:.0%})" for v in data[count]]
    ax.bar_label(_bars(ax)[0], labels=labels, padding=3, fontsize=9)
    ax.set(title=title, xlabel="Customers (count)", ylabel="Segment")
    count_axis(ax, "x")
    ax.set_xlim(0, data[count].max() * 1.2)
    return ax


def rfm_heatmap(
    data: pd.DataFrame,
    *,
    row: str = "recency_score",
    column: str = "frequency_score",
    value: str = "customers",
    title: str = "Customers by recency and frequency score",
    value_label: str = "Customers (count)",
    fmt: str = ",.0f",
    ax: Axes | None = None,
) -> Axes:
    """A heatmap of `value` for each (`row`, `column`) score pair, annotated in every cell.

    `data` is long: one row per pair. Rows are drawn with the best score on top.
    """
    data = _numeric(data, value)
    grid = data.pivot_table(index=row, columns=column, values=value, aggfunc="sum").sort_index(ascending=False)
    ax = _axes(ax, figsize=(7, 5.5))
    sns.heatmap(
        grid, annot=True, fmt=fmt, cmap=HEATMAP_COLORMAP, cbar_kws={"label": value_label}, ax=ax, linewidths=0.5
    )
    ax.set(
        title=title,
        xlabel=column.replace("_", " ").capitalize() + " (1 = lowest, 5 = highest)",
        ylabel=row.replace("_", " ").capitalize() + " (1 = lowest, 5 = highest)",
    )
    ax.tick_params(axis="y", labelrotation=0)
    return ax


def distribution(
    data: pd.DataFrame,
    column: str,
    *,
    title: str,
    xlabel: str,
    money: bool = False,
    log_scale: bool = False,
    ylabel: str = "Count",
    bins: int = 50,
    hue: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A histogram of `column` with its median marked (a dashed line and its value in the legend)."""
    data = _numeric(data, column)
    ax = _axes(ax)
    sns.histplot(
        data=data,
        x=column,
        hue=hue,
        bins=bins,
        log_scale=log_scale,
        ax=ax,
        color=None if hue else ACCENT,
        element="step" if hue else "bars",
    )
    median = data[column].median()
    label = f"median {'$' if money else ''}{median:,.0f}"
    ax.axvline(median, color=SECOND, linestyle="--", linewidth=1.5, label=label)
    if hue is None:
        ax.legend()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if money:
        money_axis(ax, "x")
    count_axis(ax, "y")
    return ax


def revenue_and_margin(
    data: pd.DataFrame,
    category: str = "category",
    revenue: str = "revenue",
    margin: str = "margin_pct",
    *,
    title: str = "Revenue and profit margin per category",
    ax: Axes | None = None,
) -> Axes:
    """Revenue as bars (left axis, $) and margin as points (right axis, %), sorted by revenue.

    Returns the revenue Axes; the margin Axes is its twin, `ax.right_ax`.
    """
    data = _numeric(data, revenue, margin).sort_values(revenue, ascending=False)
    ax = _axes(ax)
    sns.barplot(data=data, x=category, y=revenue, color=ACCENT, ax=ax, errorbar=None, label="Revenue")
    money_axis(ax, "y")
    ax.set(title=title, xlabel=category.replace("_", " ").capitalize(), ylabel="Revenue ($)")
    right = ax.twinx()
    right.plot(
        range(len(data)),
        data[margin].to_numpy(),
        color=SECOND,
        marker="o",
        markersize=9,
        linestyle="none",
        label="Margin",
    )
    right.set_ylabel("Profit margin (% of revenue)")
    right.set_ylim(0, max(data[margin].max() * 1.25, 1))
    right.grid(False)
    percent_axis(right, "y")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles, ["Revenue ($)", "Profit margin (%)"], loc="upper right")
    ax.right_ax = right  # type: ignore[attr-defined]
    return ax


def top_bottom(
    data: pd.DataFrame,
    label: str,
    value: str,
    *,
    n: int = 10,
    title: str,
    xlabel: str,
    money: bool = True,
) -> Figure:
    """Two panels: the `n` rows with the highest `value` and the `n` with the lowest."""
    data = _numeric(data, value).sort_values(value, ascending=False)
    fig, (top_ax, bottom_ax) = plt.subplots(1, 2, figsize=(13, max(3.5, 0.38 * n + 1.5)))
    top = data.head(n)
    bottom = data.tail(n).sort_values(value)
    sns.barplot(data=top, y=label, x=value, color=ACCENT, ax=top_ax, errorbar=None)
    sns.barplot(data=bottom, y=label, x=value, color=SECOND, ax=bottom_ax, errorbar=None)
    top_ax.set(title=f"Top {n}", xlabel=xlabel, ylabel="")
    bottom_ax.set(title=f"Bottom {n}", xlabel=xlabel, ylabel="")
    for panel in (top_ax, bottom_ax):
        (money_axis if money else count_axis)(panel, "x")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------- lessons 05-09: history, time series, attribution


def price_changes(
    data: pd.DataFrame,
    label: str = "product_name",
    before: str = "previous_list_price",
    after: str = "list_price",
    *,
    title: str = "List price changes recorded by product_snapshot",
    ax: Axes | None = None,
) -> Axes:
    """One line per product from its old price (grey dot) to its new price (coloured dot)."""
    data = _numeric(data, before, after).reset_index(drop=True)
    ax = _axes(ax, figsize=(9, max(2.5, 0.45 * len(data) + 1.5)))
    rows = range(len(data))
    ax.hlines(rows, data[before], data[after], color="#999999", linewidth=2, zorder=1)
    ax.scatter(data[before], rows, color="#999999", s=60, zorder=2, label="Before the batch")
    ax.scatter(data[after], rows, color=ACCENT, s=60, zorder=3, label="After the batch")
    ax.set_yticks(list(rows), [str(v) for v in data[label]])
    ax.invert_yaxis()
    ax.set(title=title, xlabel="List price ($ per unit)", ylabel="")
    money_axis(ax, "x")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def zero_sale_days(
    without_spine: pd.DataFrame,
    with_spine: pd.DataFrame,
    date: str = "date_key",
    value: str = "units",
    *,
    title: str = "Daily units sold",
    ylabel: str = "Units sold (per day)",
) -> Figure:
    """Two panels, same axes: a series missing its zero days (the line bridges the gaps) above
    the same series on a complete calendar (zeros drawn)."""
    sparse = _numeric(without_spine, value).assign(**{date: lambda d: pd.to_datetime(d[date])})
    dense = _numeric(with_spine, value).assign(**{date: lambda d: pd.to_datetime(d[date])})
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, sharey=True)
    top.plot(sparse[date], sparse[value], color=SECOND, marker="o", markersize=4, linewidth=1)
    top.set(title=f"Without a date spine: {len(sparse)} days, the line bridges the days without sales", ylabel=ylabel)
    bottom.plot(dense[date], dense[value], color=ACCENT, marker="o", markersize=3, linewidth=1)
    bottom.set(
        title=f"With a date spine: {len(dense)} days, zero-sale days drawn at 0", xlabel="Order date", ylabel=ylabel
    )
    for panel in (top, bottom):
        panel.title.set_fontsize(10)
        panel.set_ylim(bottom=0)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def daily_revenue(
    data: pd.DataFrame,
    date: str = "date_key",
    revenue: str = "total_revenue",
    *,
    window: int = 28,
    title: str = "Daily revenue, with its rolling average",
    ax: Axes | None = None,
) -> Axes:
    """Daily revenue (thin line) and its `window`-day rolling average (thick line)."""
    data = _numeric(data, revenue).assign(**{date: lambda d: pd.to_datetime(d[date])}).sort_values(date)
    ax = _axes(ax, figsize=(11, 4.5))
    ax.plot(data[date], data[revenue], color=ACCENT, linewidth=0.6, alpha=0.5, label="Revenue of the day")
    ax.plot(
        data[date],
        data[revenue].rolling(window, min_periods=1).mean(),
        color=SECOND,
        linewidth=2.2,
        label=f"{window}-day rolling average",
    )
    ax.set(title=title, xlabel="Order date", ylabel="Revenue ($ per day)")
    money_axis(ax, "y")
    ax.legend(loc="upper left")
    return ax


MONTH_LABELS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _complete_months(data: pd.DataFrame, month_start: str, days: str) -> pd.DataFrame:
    """The rows whose month is complete (days_in_month equals the calendar month's length)."""
    starts = pd.to_datetime(data[month_start])
    return data[pd.to_numeric(data[days]) == starts.dt.days_in_month]


def monthly_seasonality(
    data: pd.DataFrame,
    month_start: str = "month_start_date",
    revenue: str = "total_revenue",
    days: str = "days_in_month",
    *,
    title: str = "Monthly revenue: one line per year",
    ax: Axes | None = None,
) -> Axes:
    """Revenue per calendar month, one line per year: the season's shape and the growth between
    years. Partial months (fewer days than the month has, e.g. cut by as_of_date) are left out."""
    data = _numeric(_complete_months(data, month_start, days), revenue)
    starts = pd.to_datetime(data[month_start])
    data = data.assign(year=starts.dt.year.astype(str), month=starts.dt.month)
    ax = _axes(ax)
    sns.lineplot(data=data, x="month", y=revenue, hue="year", marker="o", ax=ax, palette=PALETTE)
    ax.set_xticks(range(1, 13), MONTH_LABELS)
    ax.set(title=title, xlabel="Month", ylabel="Revenue ($ per month)")
    money_axis(ax, "y")
    ax.legend(title="Year")
    return ax


def growth_rates(
    data: pd.DataFrame,
    month_start: str = "month_start_date",
    mom: str = "mom_growth_pct",
    yoy: str = "yoy_growth_pct",
    days: str = "days_in_month",
    *,
    title: str = "Revenue growth: month over month vs year over year",
) -> Figure:
    """Two panels of monthly growth rates in percent: over the previous month (mostly the season)
    and over the same month last year (the business). Partial months are left out."""
    data = _numeric(_complete_months(data, month_start, days), mom, yoy)
    data = data.assign(month=pd.to_datetime(data[month_start]).dt.strftime("%Y-%m"))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    for panel, column, label in ((top, mom, "month over month"), (bottom, yoy, "year over year")):
        colours = [ACCENT if value >= 0 else SECOND for value in data[column].fillna(0)]
        panel.bar(data["month"], data[column].fillna(0), color=colours)
        panel.axhline(0, color="#333333", linewidth=0.8)
        panel.set(title=f"Growth {label} (blank: no reference month yet)", ylabel="Growth (%)")
        panel.title.set_fontsize(10)
        percent_axis(panel, "y")
    bottom.set_xlabel("Month")
    ticks = list(range(0, len(data), 3))
    bottom.set_xticks(ticks, [data["month"].iloc[i] for i in ticks], rotation=45, ha="right")
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def _cac_and_roi(data: pd.DataFrame, label: str, hue: str | None, title: str) -> Figure:
    """Two horizontal bar panels on the same rows (sorted by CAC): CAC in $ and ROI in %."""
    from matplotlib.patches import Patch

    data = _numeric(data, "cost_per_acquisition", "return_on_investment").sort_values("cost_per_acquisition")
    data = data.reset_index(drop=True)
    if hue:
        groups = list(dict.fromkeys(data[hue]))
        palette = dict(zip(groups, sns.color_palette(PALETTE, len(groups)), strict=True))
        colours = [palette[value] for value in data[hue]]
    else:
        colours = [ACCENT] * len(data)
    rows = list(range(len(data)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, max(3.5, 0.42 * len(data) + 1.5)))
    left.barh(rows, data["cost_per_acquisition"], color=colours)
    right.barh(rows, data["return_on_investment"], color=colours)
    left.set_yticks(rows, [str(value) for value in data[label]])
    right.set_yticks(rows, [""] * len(rows))
    for panel in (left, right):
        panel.invert_yaxis()
    right.axvline(0, color="#333333", linewidth=0.8)
    left.set(title="Cost per acquisition (lower is better)", xlabel="Budget per customer acquired ($)", ylabel="")
    right.set(title="Return on investment (higher is better)", xlabel="(Revenue - budget) / budget (%)", ylabel="")
    money_axis(left, "x")
    percent_axis(right, "x")
    if hue:
        handles = [Patch(color=palette[group], label=str(group)) for group in groups]
        right.legend(handles=handles, title=hue.replace("_", " ").capitalize(), loc="lower right", fontsize=8)
    fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def campaign_performance(
    data: pd.DataFrame,
    label: str = "campaign_name",
    hue: str = "channel",
    *,
    title: str = "Campaigns under first-touch attribution",
) -> Figure:
    """Two panels per campaign, coloured by channel: cost per acquisition ($) and ROI (%)."""
    return _cac_and_roi(data, label, hue, title)


def channel_performance(
    data: pd.DataFrame,
    label: str = "channel",
    *,
    title: str = "Channels under first-touch attribution",
) -> Figure:
    """Two panels per channel: cost per acquisition ($) and ROI (%)."""
    return _cac_and_roi(data, label, None, title)


def progress_heatmap(grid: pd.DataFrame, exercises: Sequence[str], ax: Axes | None = None) -> Axes:
    """The class's progress (`progress.grid`): one row per learner, one column per exercise; green passed
    (darker: more attempts needed), red not passed yet, blank not tried; each cell shows its ✓n / ✗n."""
    cells = grid[list(exercises)]
    # passed at attempt n -> n (1..), not passed after n attempts -> -n, not tried -> NaN
    values = cells.apply(
        lambda column: column.map(
            lambda text: np.nan if not text else (float(text[1:]) if text.startswith("✓") else -float(text[1:]))
        )
    )
    width = max(6.0, 0.45 * len(cells.columns) + 2)
    ax = _axes(ax, figsize=(width, max(2.5, 0.35 * len(cells) + 1.5)))
    limit = float(np.nanmax(np.abs(values.to_numpy()))) if values.notna().any().any() else 1.0
    sns.heatmap(
        values.astype(float),
        ax=ax,
        cmap="RdYlGn_r",
        center=0,
        vmin=-limit,
        vmax=limit,
        annot=cells.to_numpy(),
        fmt="",
        cbar=False,
        linewidths=0.5,
        linecolor="white",
    )
    ax.set_title("Class progress: ✓n passed at attempt n, ✗n not passed after n attempts")
    ax.set_xlabel("exercise")
    ax.set_ylabel("learner")
    return ax


BENCH_STEPS = {  # bench.json's figures per scale, and their names on the chart
    "load": "load (up)",
    "build": "build --full-refresh",
    "tests": "tests alone",
    "dbt_run": "models: dbt run, 1 thread",
    "replay_seconds": "same SQL without dbt",
}


def benchmark(scales: Sequence[dict[str, object]], ax: Axes | None = None) -> Axes:
    """`ecom-tutorial bench`'s figures: seconds per step, a group of bars per scale (log scale: the
    scales are ten times apart)."""
    rows = []
    for figures in scales:
        for key, label in BENCH_STEPS.items():
            value = figures[key]
            seconds = value["seconds"] if isinstance(value, dict) else value
            rows.append({"scale": f"scale {figures['scale']}", "step": label, "seconds": float(seconds)})  # type: ignore[arg-type]
    ax = _axes(ax)
    sns.barplot(data=pd.DataFrame(rows), x="scale", y="seconds", hue="step", ax=ax)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:g} s"))
    ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    for container in _bars(ax):
        ax.bar_label(container, fmt="%.0f", fontsize=7)
    ax.set_title("What each step costs, by scale (ecom-tutorial bench)")
    ax.set_xlabel("")
    ax.set_ylabel("wall time (log scale)")
    ax.legend(fontsize=8)
    return ax


def engine_times(times: pd.DataFrame, ax: Axes | None = None, title: str = "dbt run, wall time per model") -> Axes:
    """Seconds per model on each engine (spark_engine.time_models, engine_bench.record): a pair of bars per
    model, slowest first."""
    order = times.groupby("model")["seconds"].max().sort_values(ascending=False).index
    ax = _axes(ax, figsize=(FIGSIZE[0], max(3.0, 0.45 * len(order))))
    sns.barplot(data=times, y="model", x="seconds", hue="engine", order=order, orient="h", ax=ax)
    for container in _bars(ax):
        ax.bar_label(container, fmt="%.1f s", fontsize=8, padding=2)
    ax.set(title=title, xlabel="seconds", ylabel="")
    ax.legend(title="")
    return ax
