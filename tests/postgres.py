"""A throwaway PostgreSQL server for the tests, started from the installed server binaries.

One server per test session, in a fresh folder under the system's temp folder: TCP on a free 127.0.0.1
port only (trust for 127.0.0.1, no socket file), fsync off, C collation (strings sort by their bytes, as
in SQLite). ``initdb`` and ``postgres`` refuse to run as root, which is how CI runs, so as root they run
as the ``postgres`` system user that Debian's package creates. Each test gets a database of its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

HOST = "127.0.0.1"
USER = "postgres"
INSTALL = "run scripts/system-deps.sh, which installs the postgresql package"
SETTINGS = {
    "listen_addresses": HOST,
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _version(debian_bin: Path) -> int:
    """N of ``/usr/lib/postgresql/N/bin``."""
    return int(debian_bin.parent.name) if debian_bin.parent.name.isdigit() else 0


def find_binaries() -> Path:
    """The folder holding ``initdb`` and ``postgres``: on the PATH, where ``pg_config`` says, or Debian's
    ``/usr/lib/postgresql/N/bin`` (the newest N)."""
    folders = [Path(found).resolve().parent for found in [shutil.which("initdb")] if found]
    if pg_config := shutil.which("pg_config"):
        answer = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        folders.append(Path(answer.stdout.strip()))
    folders += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    for folder in folders:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    pytest.fail(
        "The tests need PostgreSQL's server binaries (initdb, postgres), and none were found on the PATH, "
        f"by pg_config or under /usr/lib/postgresql/*/bin: {INSTALL}.",
        pytrace=False,
    )


def _unprivileged() -> dict[str, Any]:
    """``subprocess.Popen`` options that run a server binary as the ``postgres`` user when we are root
    (as ourselves otherwise)."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam(USER)
    except KeyError:
        pytest.fail(f"The tests run as root and there is no '{USER}' user to run PostgreSQL as: {INSTALL}.")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A running throwaway server; ``stop()`` ends it and deletes its folder."""

    def __init__(self, folder: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.folder = folder
        self.port = port
        self.process = process

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://{USER}@{HOST}:{self.port}/{database}"

    def sql(self, statement: str) -> None:
        """Run one statement outside a transaction (as ``CREATE DATABASE`` must be)."""
        with psycopg.connect(host=HOST, port=self.port, user=USER, dbname="postgres", autocommit=True) as db:
            db.execute(statement)

    @contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database, dropped when the block ends; its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE template0")
        try:
            yield self.url(name)
        finally:
            self.sql(f"DROP DATABASE {name} WITH (FORCE)")

    def stop(self) -> None:
        """Fast shutdown (connections are cut), then the folder goes."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start(timeout: float = 30.0) -> PostgresServer:
    """Create a cluster in a new temp folder and start a server on it; fails the test with the server's
    log if it does not answer within ``timeout`` seconds."""
    binaries = find_binaries()
    options = _unprivileged()
    folder = Path(tempfile.mkdtemp(prefix="figurebot-postgres-"))
    if options:
        os.chown(folder, options["user"], options["group"])
    data, log = folder / "data", folder / "server.log"
    cluster = ["-D", data, "-U", USER, "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"]
    made = subprocess.run(
        [binaries / "initdb", *cluster], cwd=folder, capture_output=True, text=True, **options
    )
    if made.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{made.stdout}{made.stderr}", pytrace=False)
    (data / "pg_hba.conf").write_text(f"host all all {HOST}/32 trust\n")
    port = _free_port()
    settings = [arg for name, value in SETTINGS.items() for arg in ("-c", f"{name}={value}")]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [binaries / "postgres", "-D", data, "-p", str(port), *settings],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            **options,
        )
    server = PostgresServer(folder, port, process)
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            server.sql("SELECT 1")
            return server
        except psycopg.OperationalError:
            time.sleep(0.05)
    said = log.read_text(errors="replace")
    server.stop()
    pytest.fail(f"PostgreSQL did not start on {HOST}:{port}:\n{said}", pytrace=False)
