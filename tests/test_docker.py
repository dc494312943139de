"""The Docker path, without a Docker engine: the compose file against the Compose spec, the scripts' syntax.

Their SQL is proven elsewhere: test_mock_data.py runs init-db.sql and load-mock-data.sh against PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

DOCKER = REPO / "docker"


def _check_jsonschema() -> str:
    found = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    assert Path(found).exists(), "check-jsonschema is part of the test extra: pip install -e '.[test]'"
    return found


def test_compose_file_is_valid_against_the_compose_spec():
    result = subprocess.run(
        [_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(DOCKER / "docker-compose.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_spec_check_rejects_a_broken_file(tmp_path):
    """The check above can fail: a service with a misspelt key is refused."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  postgres:\n    imagee: postgres:16\n")
    result = subprocess.run(
        [_check_jsonschema(), "--builtin-schema", "vendor.compose-spec", str(broken)], capture_output=True, text=True
    )
    assert result.returncode != 0


def test_compose_defaults_match_the_package_settings(monkeypatch):
    """ECOM_DB_MODE=server with no other variable set must reach the Docker server."""
    from ecom_tutorial.settings import load_settings

    for name in [n for n in os.environ if n.startswith("ECOM_DB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ECOM_DB_MODE", "server")
    settings = load_settings()
    postgres = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["services"]["postgres"]
    environment = postgres["environment"]
    assert environment["POSTGRES_USER"] == settings.db_user
    assert environment["POSTGRES_PASSWORD"] == settings.db_password
    assert environment["POSTGRES_DB"] == settings.db_name
    assert f"{settings.db_port}:5432" in postgres["ports"]


def test_init_scripts_are_mounted_and_shell_syntax_is_valid():
    postgres = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["services"]["postgres"]
    mounted = [volume.split(":")[0] for volume in postgres["volumes"]]
    for path in ("./postgres/init-db.sql", "./postgres/load-mock-data.sh", "./postgres/mock-data"):
        assert path in mounted and (DOCKER / path).exists(), path
    syntax = subprocess.run(
        ["bash", "-n", str(DOCKER / "postgres" / "load-mock-data.sh")], capture_output=True, text=True
    )
    assert syntax.returncode == 0, syntax.stderr


def test_minio_data_folder_is_in_the_checkout():
    """The specification's docker/minio/.gitkeep: the folder MinIO's service mounts as its data."""
    minio = yaml.safe_load((DOCKER / "docker-compose.yml").read_text())["services"]["minio"]
    assert "./minio:/data" in minio["volumes"]
    assert (DOCKER / "minio" / ".gitkeep").exists()
