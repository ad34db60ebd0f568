"""Fixtures shared by the whole suite: a private PostgreSQL server on loopback; and how the suite's
two processes share the test files (`pytest_collection_modifyitems`)."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "postgres"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """For `--dist loadgroup` (scripts/test.sh): each test file is a group of its own, as with
    loadfile (its module fixtures stay in one process), except the files marked `chromium_media`
    (Chromium meetings whose assertions need media to flow in time), which form one group and so
    run one after another. Two such meetings side by side on two cores starved each other's
    encoders: the CI's red runs saw a top layer sent at 320 px, a camera without a frame for 1.5 s,
    a page that fetched its scripts and then ran none for 20 s."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        media = item.get_closest_marker("chromium_media") is not None
        item.add_marker(pytest.mark.xdist_group("chromium_media" if media else module))


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    socket_dir: str

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{PG_USER}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        subprocess.run(
            [
                _bin("psql"),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                PG_USER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
        )


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(
            f"PostgreSQL's {name} is missing: run scripts/install-test-deps.sh (installs Debian's postgresql)",
            pytrace=False,
        )
    return found[-1]


def _run(command: list[str], what: str, log: str | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        server_log = Path(log).read_text() if log and os.path.exists(log) else ""
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}{server_log}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PrivatePostgres:
    """A private cluster: initdb into a temporary directory, listening on 127.0.0.1 only, trust auth.
    `stop` and `start` restart it on the same port (the fault tests' PostgreSQL restart)."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        self.root = tempfile.mkdtemp(prefix="podium-pg-")
        self.data, self.sockets = os.path.join(self.root, "data"), os.path.join(self.root, "sock")
        os.makedirs(self.sockets)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self.port = _free_port()
        self.log = os.path.join(self.root, "log")
        self.server = PostgresServer(host="127.0.0.1", port=self.port, socket_dir=self.sockets)
        _run(
            _as_owner([self.initdb, "-D", self.data, "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync"]),
            "initdb",
        )

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off"
        )
        _run(
            _as_owner([self.pg_ctl, "-D", self.data, "-o", options, "-l", self.log, "-w", "start"]),
            "pg_ctl start",
            self.log,
        )

    def stop(self, mode: str = "fast") -> None:
        _run(_as_owner([self.pg_ctl, "-D", self.data, "-m", mode, "-w", "stop"]), "pg_ctl stop", self.log)

    def remove(self) -> None:
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run(
                _as_owner([self.pg_ctl, "-D", self.data, "-m", "immediate", "-w", "stop"]), capture_output=True
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        self.server.psql(f"CREATE DATABASE {name}")
        return self.server.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The suite's private cluster (shared: never stopped by a test)."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster.server
    finally:
        cluster.remove()


@pytest.fixture
def restartable_postgres() -> Iterator[PrivatePostgres]:
    """A cluster of the test's own, which it may stop and start."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the private server."""
    name = "t_" + uuid.uuid4().hex[:16]
    postgres_server.psql(f"CREATE DATABASE {name}")
    return postgres_server.url(name)
