"""The dbt docs site: generate it with `dbt docs generate`, serve it on 127.0.0.1.

`serve_docs()` is `ecom-tutorial docs`: it blocks until Ctrl-C. `docs_server()` is the same
site in a background thread, for tests and notebooks:

    with docs_server() as url:
        print(url)   # http://127.0.0.1:<port>/index.html

Why not open target/index.html directly? The page loads manifest.json and catalog.json with
JavaScript, which browsers refuse to do from file:// URLs: the page then waits forever.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import http.server
import socket
import sys
import threading
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import EcomTutorialError
from .settings import Settings, load_settings

HOST = "127.0.0.1"
# What the docs page needs: the page itself and the two JSON files it loads.
SITE_FILES = ("index.html", "manifest.json", "catalog.json")


class DocsServerError(EcomTutorialError):
    """The docs site could not be generated or served (port in use, files missing)."""


def target_dir(settings: Settings | None = None) -> Path:
    """Where `dbt docs generate` writes the site (dbt's target folder)."""
    return (settings or load_settings()).dbt_target_dir


def generate_docs(settings: Settings | None = None, progress: bool = False) -> Path:
    """Run `dbt docs generate` (which also compiles every model) and return the target folder."""
    from .runner import run_dbt

    settings = settings or load_settings()
    run_dbt(["docs", "generate"], progress=progress, settings=settings)
    folder = target_dir(settings)
    _check_site(folder)
    return folder


def _check_site(folder: Path) -> None:
    missing = [name for name in SITE_FILES if not (folder / name).is_file()]
    if missing:
        raise DocsServerError(
            f"The docs site in {folder} is incomplete (missing: {', '.join(missing)}). "
            "Run `ecom-tutorial docs` again, or `dbt docs generate` in dbt_project/."
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from one folder without logging every request to the terminal."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        pass


class _Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server that stays quiet when a browser hangs up early (normal for browsers)."""

    daemon_threads = True

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # BrokenPipeError, ConnectionResetError
            return
        super().handle_error(request, client_address)


def _make_server(folder: Path, port: int | None) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        return _Server((HOST, port or 0), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DocsServerError(
                f"Port {port} on {HOST} is already in use ({_port_user(int(port or 0))}). "
                f"Stop that program, pick another port with `ecom-tutorial docs --port {int(port or 0) + 1}`, "
                "or leave out --port to let the system choose a free one."
            ) from None
        if exc.errno == errno.EACCES:
            raise DocsServerError(
                f"Not allowed to listen on port {port}: ports below 1024 need administrator rights. "
                "Use a port above 1024, e.g. `ecom-tutorial docs --port 8080`."
            ) from None
        raise


def _port_user(port: int) -> str:
    """Which program listens on `port`, as far as this user may see."""
    import psutil

    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                return f"by {psutil.Process(conn.pid).name()}, pid {conn.pid}"
    except (psutil.Error, OSError):
        pass
    return "by another docs server, or another program"


def _url(server: http.server.ThreadingHTTPServer) -> str:
    return f"http://{HOST}:{server.server_address[1]}/index.html"


@contextlib.contextmanager
def docs_server(port: int | None = None, generate: bool = True, settings: Settings | None = None) -> Iterator[str]:
    """Serve the docs site in a background thread while the `with` block runs; yields its URL.

    `port=None` lets the system pick a free port. `generate=False` serves what is already in
    the target folder (after an earlier `dbt docs generate`).
    """
    settings = settings or load_settings()
    folder = generate_docs(settings) if generate else target_dir(settings)
    _check_site(folder)
    server = _make_server(folder, port)
    thread = threading.Thread(target=server.serve_forever, name="dbt-docs-server", daemon=True)
    thread.start()
    try:
        yield _url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def serve_docs(
    port: int | None = None, open_browser: bool = False, generate: bool = True, settings: Settings | None = None
) -> None:
    """`ecom-tutorial docs`: generate the docs, serve them on 127.0.0.1, print the URL, block until Ctrl-C."""
    settings = settings or load_settings()
    # Bind first, so a busy port fails at once with our message, not after generating the site.
    server = _make_server(target_dir(settings), port)
    try:
        if generate:
            print("Generating the dbt docs (dbt docs generate)...", flush=True)
            folder = generate_docs(settings, progress=True)
        else:
            folder = target_dir(settings)
            _check_site(folder)
    except BaseException:
        server.server_close()
        raise
    url = _url(server)
    print(f"dbt docs: {url}\nServing {folder} on {HOST} only; press Ctrl-C to stop.", flush=True)
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nDocs server stopped.")
    finally:
        server.server_close()
