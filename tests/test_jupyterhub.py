"""The class's JupyterHub recipe (docker/jupyterhub/jupyterhub_config.py), on a real hub.

The hub test starts JupyterHub with the recipe, a test authenticator and spawner, and two learners' settings
files; it starts both learners' servers through the hub's REST API and reads what each server process
really got (/proc/PID/environ): its own learner's login and project, never the other's password.
The proxy is configurable-http-proxy from npm: CI installs it with PROXY_INSTALL.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tornado import web
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parent.parent
RECIPE = REPO / "docker" / "jupyterhub" / "jupyterhub_config.py"
PROXY_INSTALL = "npm install --no-save --prefix build/jupyterhub configurable-http-proxy@4.6.3"
LOCAL_PROXY = REPO / "build" / "jupyterhub" / "node_modules" / ".bin" / "configurable-http-proxy"
LEARNERS = ("ann", "ben")
NOT_ON_THE_ROSTER = "carol"  # a hub user without a settings file
SERVICE = "ecom-test"


def _proxy() -> str:
    """configurable-http-proxy: the one PROXY_INSTALL puts in build/, else one on PATH."""
    if LOCAL_PROXY.is_file():
        return str(LOCAL_PROXY)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    reason = f"configurable-http-proxy is not installed: run `{PROXY_INSTALL}` in the repository"
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the JupyterHub test)")
    pytest.skip(reason)


def _free_ports(count: int) -> list[int]:
    """`count` distinct ports that are free on 127.0.0.1 right now (held together, so never the same one)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _write_settings(class_dir: Path, name: str, project_dir: Path) -> dict[str, str]:
    """A learner's settings file as `ecom-tutorial class setup` writes it (mode 0600); its values."""
    values = {
        "ECOM_DB_MODE": "server",
        "ECOM_DB_HOST": "127.0.0.1",
        "ECOM_DB_PORT": "5432",
        "ECOM_DB_USER": f"coursedb_{name}",
        "ECOM_DB_PASSWORD": secrets.token_urlsafe(18),
        "ECOM_DB_NAME": "coursedb",
        "ECOM_DB_SCHEMA": name,
        "ECOM_DBT_THREADS": "1",
        "ECOM_PROJECT_DIR": str(project_dir),
        "ECOM_LEARNER": name,
        "ECOM_PROGRESS_SCHEMA": "course_progress",
    }
    folder = class_dir / "settings"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{name}.env"
    path.touch(mode=0o600)
    path.write_text(
        "# ecom-dbt-tutorial: this learner's settings (written by the test)\n"
        + "".join(f"{key}={value}\n" for key, value in values.items())
    )
    return values


def _load_recipe(class_dir: Path | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The recipe's config, loaded as JupyterHub loads a config file."""
    if class_dir is None:
        monkeypatch.delenv("ECOM_CLASS_DIR", raising=False)
    else:
        monkeypatch.setenv("ECOM_CLASS_DIR", str(class_dir))
    return PyFileConfigLoader(RECIPE.name, str(RECIPE.parent)).load_config()


# --------------------------------------------------------------------------- the hook alone (fast)


def test_a_hub_user_without_settings_is_told_to_ask_the_teacher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_settings(tmp_path, "ann", tmp_path / "projects" / "ann")
    hook = _load_recipe(tmp_path, monkeypatch).Spawner.pre_spawn_hook
    spawner = SimpleNamespace(user=SimpleNamespace(name="bob"), environment={}, notebook_dir="")
    with pytest.raises(web.HTTPError) as error:
        hook(spawner)
    message = error.value.log_message or ""
    assert "bob is not on the class roster" in message
    assert "ecom-tutorial class setup --roster" in message
    assert error.value.jupyterhub_message == message  # what the hub's pages show
    assert spawner.environment == {} and spawner.notebook_dir == ""

    learner = SimpleNamespace(user=SimpleNamespace(name="ann"), environment={"KEPT": "1"}, notebook_dir="")
    hook(learner)
    assert learner.environment["ECOM_DB_SCHEMA"] == "ann" and learner.environment["KEPT"] == "1"
    assert learner.notebook_dir == str(tmp_path / "projects" / "ann")


@pytest.mark.parametrize("class_dir", [None, "missing"])
def test_the_hub_refuses_to_start_without_a_class_folder(
    class_dir: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit, match="ECOM_CLASS_DIR") as stop:
        _load_recipe(tmp_path / class_dir if class_dir else None, monkeypatch)
    assert "ecom-tutorial class setup" in str(stop.value)


# --------------------------------------------------------------------------- a real hub


@dataclass
class Hub:
    url: str  # the public URL, through the proxy
    token: str  # the test service's token, with admin scopes
    log: Path
    learners: dict[str, dict[str, str]]  # name: the values of their settings file
    pids: dict[str, int] = field(default_factory=dict)  # the single-user servers started

    def api(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """(status, JSON reply) of the hub's REST API."""
        return _request(method, f"{self.url}/hub/api{path}", self.token, body)

    def log_tail(self) -> str:
        return "\n--- hub log (last lines) ---\n" + "\n".join(self.log.read_text().splitlines()[-40:])


def _request(method: str, url: str, token: str | None = None, body: object = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def _hub_config(tmp_path: Path, ports: list[int], token: str, proxy: str) -> Path:
    """The test's config file: the recipe, then only what a test hub on this machine needs."""
    public, hub, proxy_api = ports
    config = tmp_path / "test_jupyterhub_config.py"
    config.write_text(f"""
c = get_config()  # noqa
load_subconfig({str(RECIPE)!r})
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {public}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {str(tmp_path / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{tmp_path / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(tmp_path / "cookie_secret")!r}
# no OS users here: every server runs as this user, with a home of its own under tmp_path
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {{*{LEARNERS!r}, {NOT_ON_THE_ROSTER!r}}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(tmp_path / "homes" / "{username}")!r}
c.Spawner.cmd = [{str(Path(sys.executable).with_name("jupyterhub-singleuser"))!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.start_timeout = 120
c.JupyterHub.services = [{{"name": {SERVICE!r}, "api_token": {token!r}}}]
c.JupyterHub.load_roles = [
    {{"name": "ecom-test-admin", "scopes": ["admin:users", "admin:servers", "access:servers"],
      "services": [{SERVICE!r}]}}
]
""")
    return config


def _stop_group(pid: int, expected: str) -> None:
    """SIGTERM, then SIGKILL, the process group `pid` leads, if `pid` still runs `expected` (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return
    if expected not in cmdline:
        return
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists() or _zombie(pid):
                return
            time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _wait_for(what: str, check: Any, timeout: float, hub: Hub, process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if process.poll() is not None:
            pytest.fail(f"the hub exited with {process.returncode} while waiting for {what}{hub.log_tail()}")
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{hub.log_tail()}")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Hub, subprocess.Popen[bytes]]]:
    """A running hub with the recipe, two learners on the roster; everything stopped afterwards."""
    if importlib.util.find_spec("jupyterhub") is None:
        pytest.fail("jupyterhub is not installed: `pip install -e .[test]` installs it.")
    proxy = _proxy()
    class_dir = tmp_path / "class"
    learners = {}
    for name in LEARNERS:
        project = class_dir / "projects" / name
        (project / "notebooks").mkdir(parents=True)
        learners[name] = _write_settings(class_dir, name, project)
    ports = _free_ports(3)
    token = secrets.token_hex(32)
    config = _hub_config(tmp_path, ports, token, proxy)
    log = tmp_path / "hub.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=tmp_path,
            env={**os.environ, "ECOM_CLASS_DIR": str(class_dir)},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    running = Hub(url=f"http://127.0.0.1:{ports[0]}", token=token, log=log, learners=learners)
    try:
        yield running, process
    finally:
        try:  # the servers first, through the hub, as a teacher would; then the hub, which stops the proxy
            if process.poll() is None:
                for name in running.pids:
                    running.api("DELETE", f"/users/{name}/server")
        except OSError:
            pass
        _stop_group(process.pid, "jupyterhub")
        process.wait(timeout=10)
        # each server and the proxy run in a session of their own: whatever the hub left behind
        for pid in running.pids.values():
            _stop_group(pid, "jupyterhub-singleuser")
        pid_file = tmp_path / "proxy.pid"
        if pid_file.is_file() and pid_file.read_text().strip().isdigit():
            _stop_group(int(pid_file.read_text()), "configurable-http-proxy")


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return dict(entry.partition("=")[::2] for entry in raw.split("\0") if entry)


@pytest.mark.slow
def test_each_learner_server_gets_their_own_settings_and_project(
    hub: tuple[Hub, subprocess.Popen[bytes]],
) -> None:
    running, process = hub
    _wait_for("/hub/api", lambda: _reachable(f"{running.url}/hub/api"), 60, running, process)

    for name in (*LEARNERS, NOT_ON_THE_ROSTER):
        status, reply = running.api("POST", f"/users/{name}")
        assert status in (201, 409), (status, reply)  # 409: the hub made the allowed users at start
    for name in LEARNERS:
        status, reply = running.api("POST", f"/users/{name}/server")
        assert status in (201, 202), f"{name}: {status} {reply}{running.log_tail()}"

    models = {}
    for name in LEARNERS:

        def ready(name: str = name) -> Any:
            status, model = running.api("GET", f"/users/{name}")
            server = (model or {}).get("servers", {}).get("") if status == 200 else None
            if server and server.get("state", {}).get("pid"):
                running.pids[name] = server["state"]["pid"]  # for the fixture's clean-up, ready or not
            return model if server and server.get("ready") else None

        models[name] = _wait_for(f"{name}'s server", ready, 120, running, process)

    environments = {name: _environ(running.pids[name]) for name in LEARNERS}
    for name, other in (LEARNERS, LEARNERS[::-1]):
        env, mine = environments[name], running.learners[name]
        for key in ("ECOM_DB_SCHEMA", "ECOM_DB_USER", "ECOM_DB_PASSWORD", "ECOM_PROJECT_DIR", "ECOM_LEARNER"):
            assert env.get(key) == mine[key], f"{name}'s server has {key}={env.get(key)!r}, expected {mine[key]!r}"
        assert env["JUPYTERHUB_USER"] == name
        leaked = [key for key, value in env.items() if running.learners[other]["ECOM_DB_PASSWORD"] in value]
        assert not leaked, f"{name}'s server holds {other}'s password in {leaked}"
        # JupyterHub hands Spawner.notebook_dir to the server as JUPYTERHUB_ROOT_DIR (no --notebook-dir since 2.0)
        assert env.get("JUPYTERHUB_ROOT_DIR") == mine["ECOM_PROJECT_DIR"]
        assert "ECOM_CLASS_DIR" not in env  # the hub's own settings stay with the hub

        # what JupyterLab's file browser shows: the learner's copy of the course
        server_url = running.url + models[name]["servers"][""]["url"]
        status, listing = _request("GET", f"{server_url}api/contents", running.token)
        assert status == 200, (status, listing)
        assert "notebooks" in {item["name"] for item in listing["content"]}, listing

    # a hub user the teacher did not set up: the hook's message, through the hub's API
    status, reply = running.api("POST", f"/users/{NOT_ON_THE_ROSTER}/server")
    assert status == 403, (status, reply)
    assert "not on the class roster" in reply["message"] and "class setup --roster" in reply["message"]


def _reachable(url: str) -> bool:
    try:
        return _request("GET", url)[0] == 200
    except OSError:
        return False
