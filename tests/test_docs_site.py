"""The dbt docs site, as a learner sees it: generated, served on 127.0.0.1, opened in a browser.

The browser is Debian's headless `chromium`, pointed at the served site (never at file://, where
the page waits forever for manifest.json). `--dump-dom` returns the page after its JavaScript
ran, so the checks read what the learner would read. Screenshots are kept in
build/test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, dbt_target

from ecom_tutorial.docs import DocsServerError, docs_server

ARTIFACTS = REPO / "build" / "test-artifacts"
PROJECT_NAME = "ecom_dbt_tutorial"
MODEL_ID = f"model.{PROJECT_NAME}.customer_analytics"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # let the page's JavaScript fetch the JSON files and render before the DOM is dumped
    "--virtual-time-budget=10000",
]


def _chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed, and CI must run the docs site test: apt-get install -y chromium")
    pytest.skip("chromium is not installed (apt-get install -y chromium); CI is not set, so skipping")


def _browse(url: str, profile: Path, *extra: str) -> str:
    completed = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def _visible(dom: str) -> str:
    """The page without scripts, styles and comments (the inlined JavaScript holds every word)."""
    for pattern in (r"<script.*?</script>", r"<style.*?</style>", r"<!--.*?-->"):
        dom = re.sub(pattern, "", dom, flags=re.S)
    return html.unescape(dom)


@pytest.fixture(scope="module")
def site(built_warehouse: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """Generate the docs of the built warehouse into a private target folder and serve them."""
    with dbt_target(tmp_path_factory.mktemp("docs") / "target") as target:
        started = time.perf_counter()
        with docs_server() as url:
            yield {
                "url": url,
                "target": target,
                "seconds": time.perf_counter() - started,
                "profile": tmp_path_factory.mktemp("chromium"),
            }


def test_site_is_served_on_localhost_with_its_data(site: dict[str, object]) -> None:
    url = str(site["url"])
    assert url.startswith("http://127.0.0.1:") and url.endswith("/index.html")
    print(f"\ndocs generated and served in {site['seconds']:.1f} s at {url}")
    base = url.rsplit("/", 1)[0]
    for name in ("index.html", "manifest.json", "catalog.json"):
        with urllib.request.urlopen(f"{base}/{name}", timeout=10) as response:
            assert response.status == 200, name
    # the lineage data the graph is drawn from
    with urllib.request.urlopen(f"{base}/manifest.json", timeout=10) as response:
        manifest = json.load(response)
    assert f"model.{PROJECT_NAME}.dim_customers" in manifest["parent_map"][MODEL_ID]
    assert f"exposure.{PROJECT_NAME}.marketing_dashboard" in manifest["child_map"][MODEL_ID]


def test_customer_analytics_page_renders_with_column_descriptions(site: dict[str, object]) -> None:
    page = f"{site['url']}#!/model/{MODEL_ID}"
    text = _visible(_browse(page, Path(site["profile"]), "--dump-dom"))
    manifest = json.loads((Path(site["target"]) / "manifest.json").read_text())
    columns = manifest["nodes"][MODEL_ID]["columns"]
    assert len(columns) > 10

    assert re.search(r"<h1[^>]*>\s*<span[^>]*>\s*customer_analytics", text) or "customer_analytics</span>" in text
    missing = [
        name
        for name, column in columns.items()
        # the column table shows each name and its (rendered) description
        if f">{name}<" not in text or html.unescape(column["description"]).split("{{")[0].strip()[:60] not in text
    ]
    assert missing == [], f"columns or descriptions not rendered: {missing}"
    # the lineage sections of the page, rendered from parent_map and child_map
    depends_on = text[text.index('id="depends_on"') :]
    assert f'href="#!/model/model.{PROJECT_NAME}.dim_customers"' in depends_on
    assert "Marketing performance dashboard" in text or "marketing_dashboard" in text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "docs_customer_analytics.png"
    shot.unlink(missing_ok=True)
    _browse(page, Path(site["profile"]), f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_lineage_graph_renders(site: dict[str, object]) -> None:
    page = f"{site['url']}#!/model/{MODEL_ID}?g_v=1"
    text = _visible(_browse(page, Path(site["profile"]), "--dump-dom"))
    assert "Lineage Graph" in text
    # cytoscape draws the graph on canvases inside its container; sized canvases mean it drew
    container = text[text.index("cytoscape_container") :]
    canvases = re.findall(r'<canvas[^>]*width="(\d+)" height="(\d+)"', container)
    assert canvases and all(int(w) > 100 and int(h) > 100 for w, h in canvases), canvases

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "docs_lineage_graph.png"
    shot.unlink(missing_ok=True)
    _browse(page, Path(site["profile"]), f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.stat().st_size > 20_000


def test_busy_port_gives_a_clear_error(site: dict[str, object]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(DocsServerError) as error, docs_server(port=port, generate=False):
            pass
    message = str(error.value)
    assert f"Port {port}" in message and "--port" in message


def test_serve_docs_prints_the_url_and_stops_on_ctrl_c(site: dict[str, object]) -> None:
    """What `ecom-tutorial docs` does, minus the generation the fixture already did."""
    code = "from ecom_tutorial.docs import serve_docs; serve_docs(generate=False)"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # faulthandler: a SIGABRT makes the server print every thread's stack, should it ever not stop
        env={**os.environ, "DBT_TARGET_PATH": str(site["target"]), "PYTHONFAULTHANDLER": "1"},
        # Ctrl-C as in a terminal: a suite started in the background (`.ci/run &`) has SIGINT ignored, which its
        # children inherit, and Python then never raises KeyboardInterrupt (this test hung that way)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/index\.html", first_line)
        assert match, first_line + (process.stderr.read() if process.poll() is not None else "")
        with urllib.request.urlopen(match.group(0), timeout=10) as response:
            assert response.status == 200
            response.read()  # the whole page, as a browser does: no handler is left mid-send
        process.send_signal(signal.SIGINT)
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            err = process.communicate(timeout=10)[1]
            pytest.fail(f"the docs server did not stop within 20 s of Ctrl-C; its threads:\n{err}")
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out
