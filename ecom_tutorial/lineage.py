"""The lineage graph of the dbt project, drawn as a picture: sources on the left, marts on the right.

The graph comes from dbt's own manifest (target/manifest.json): every source, seed, model,
snapshot and exposure, with an edge from each node to the nodes that read it. A selection uses
dbt's selector syntax (`+customer_analytics`, `staging`, `tag:x`), resolved by `dbt ls` itself.
"""

from __future__ import annotations

import json
from typing import Any

import matplotlib.pyplot as plt
import networkx as nx
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from .runner import run_dbt
from .settings import Settings, load_settings

RESOURCE_TYPES = ("source", "seed", "model", "snapshot", "exposure")
# Columns of the picture, left to right; a node's column comes from its type and folder.
LAYERS = ("sources & seeds", "staging", "intermediate", "snapshots", "marts: core", "marts: analytics", "exposures")


def load_manifest(refresh: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    """The parsed manifest; runs `dbt parse` first if there is none yet (or `refresh`)."""
    path = (settings or load_settings()).dbt_target_dir / "manifest.json"
    if refresh or not path.exists():
        run_dbt(["parse"], progress=False, settings=settings)
    return json.loads(path.read_text(encoding="utf-8"))


def layer_of(node: dict[str, Any]) -> int:
    """Index in LAYERS of a manifest node, from its resource type and folder."""
    kind = node["resource_type"]
    if kind in ("source", "seed"):
        return 0
    if kind == "snapshot":
        return 3
    if kind == "exposure":
        return 6
    folders = node.get("fqn", [])[1:-1]  # fqn: project, folders..., name
    # the learner's workspace is one folder: its models' layer is in their names, as the structure guide names them
    if "staging" in folders or ("workspace" in folders and node["name"].startswith("stg_")):
        return 1
    if "intermediate" in folders or ("workspace" in folders and node["name"].startswith("int_")):
        return 2
    if "analytics" in folders:
        return 5
    return 4


def _label(node: dict[str, Any]) -> str:
    if node["resource_type"] == "source":
        return f"{node['source_name']}.{node['name']}"
    return node["name"]


def selected_ids(select: str, settings: Settings | None = None) -> set[str]:
    """The unique ids dbt selects for `select` (dbt's own selector syntax, via `dbt ls`)."""
    result = run_dbt(
        [
            "ls",
            "--select",
            select,
            "--resource-types",
            *RESOURCE_TYPES,
            "--output",
            "json",
            "--output-keys",
            "unique_id",
        ],
        progress=False,
        settings=settings,
    )
    return {json.loads(line)["unique_id"] for line in result.raw or []}


def lineage_graph(
    select: str | None = None, *, manifest: dict[str, Any] | None = None, settings: Settings | None = None
) -> nx.DiGraph:
    """A directed graph (parent -> child) of the project, or of the nodes `select` picks.

    Node attributes: `label`, `resource_type`, `layer` (index in LAYERS), `materialized`.
    Tests are left out: they hang off the nodes they test.
    """
    manifest = manifest or load_manifest(settings=settings)
    everything = {**manifest["nodes"], **manifest["sources"], **manifest.get("exposures", {})}
    nodes = {uid: node for uid, node in everything.items() if node["resource_type"] in RESOURCE_TYPES}
    if select:
        chosen = selected_ids(select, settings)
        nodes = {uid: node for uid, node in nodes.items() if uid in chosen}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for uid in sorted(nodes, key=lambda u: (layer_of(nodes[u]), _label(nodes[u]))):
        node = nodes[uid]
        graph.add_node(
            uid,
            label=_label(node),
            resource_type=node["resource_type"],
            layer=layer_of(node),
            materialized=node.get("config", {}).get("materialized", node["resource_type"]),
        )
    for uid, node in nodes.items():
        for parent in node.get("depends_on", {}).get("nodes", []):
            if parent in nodes:
                graph.add_edge(parent, uid)
    return graph


def draw_lineage(
    select: str | None = None,
    *,
    graph: nx.DiGraph | None = None,
    title: str | None = None,
    highlight: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the lineage of `select` (default: the whole project) left to right, one column per layer.

    Node colour = layer; ephemeral models are drawn hollow (they exist only inside other models'
    SQL); `highlight` (a node name) is drawn larger with a thick outline.
    """
    graph = graph if graph is not None else lineage_graph(select)
    if graph.number_of_nodes() == 0:
        raise ValueError(f"The selection {select!r} matches no source, seed, model, snapshot or exposure.")
    used_layers = sorted({data["layer"] for _, data in graph.nodes(data=True)})
    column = {layer: index for index, layer in enumerate(used_layers)}
    per_column: dict[int, list[str]] = {}
    for uid, data in graph.nodes(data=True):
        per_column.setdefault(column[data["layer"]], []).append(uid)
    tallest = max(len(members) for members in per_column.values())
    positions = {}
    for x, members in per_column.items():
        for rank, uid in enumerate(members):
            positions[uid] = (x * 3.0, 1.3 * ((len(members) - 1) / 2 - rank))
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8, 3.2 * len(used_layers)), max(3.5, 0.7 * tallest + 1.8)))
    colours = dict(zip(range(len(LAYERS)), sns.color_palette("Set2", len(LAYERS)), strict=True))
    same_column = [(u, v) for u, v in graph.edges if column[graph.nodes[u]["layer"]] == column[graph.nodes[v]["layer"]]]
    across = [edge for edge in graph.edges if edge not in same_column]
    # edges within one column bend further, so they do not run through the nodes between their ends
    for edges, bend in ((across, 0.05), (same_column, 0.4)):
        nx.draw_networkx_edges(
            graph,
            positions,
            edgelist=edges,
            ax=ax,
            edge_color="#888888",
            arrows=True,
            arrowsize=12,
            node_size=900,
            connectionstyle=f"arc3,rad={bend}",
        )
    for uid, data in graph.nodes(data=True):
        ephemeral = data["materialized"] == "ephemeral"
        chosen = highlight is not None and data["label"] == highlight
        ax.scatter(
            *positions[uid],
            s=900 if chosen else 420,
            zorder=3,
            facecolor="white" if ephemeral else colours[data["layer"]],
            edgecolor=colours[data["layer"]] if ephemeral else "#333333",
            linewidth=3.5 if chosen else 1.5,
        )
        ax.annotate(
            data["label"],
            positions[uid],
            xytext=(0, -16),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8.5,
            fontweight="bold" if chosen else "normal",
        )
    top = max(y for _, y in positions.values()) + 1.0
    for layer, x in column.items():
        ax.text(x * 3.0, top, LAYERS[layer], ha="center", va="bottom", fontsize=10, fontweight="bold", color="#333333")
    handles = [Patch(facecolor=colours[layer], edgecolor="#333333", label=LAYERS[layer]) for layer in used_layers]
    if any(data["materialized"] == "ephemeral" for _, data in graph.nodes(data=True)):
        handles.append(Patch(facecolor="white", edgecolor="#888888", label="ephemeral model (hollow)"))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=min(4, len(handles)),
        frameon=False,
        fontsize=9,
    )
    ax.set_title(title or f"Lineage of {select or 'the whole project'} (data flows left to right)", fontweight="bold")
    ax.set_xlim(-1.6, (len(used_layers) - 1) * 3.0 + 1.6)
    ax.set_ylim(min(y for _, y in positions.values()) - 1.0, top + 0.6)
    ax.axis("off")
    return ax
