"""A throw-away PostgreSQL cluster for the test suite: Debian's server, started by the tests.

The cluster lives in a temp dir (initdb + pg_ctl) and listens only on 127.0.0.1 and a socket in
that dir. initdb refuses to run as root, and CI runs as root, so there the cluster runs as the
``postgres`` user that Debian's package creates. Each test gets a database of its own.

A run that starts many pytest sessions (``scripts/mutation.sh``) starts one cluster itself and
names its port in ``VOXPRINT_TEST_POSTGRES_PORT``: the sessions then share it instead of each
starting its own, and leave it running.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

_database_numbers = itertools.count()
# The port of a cluster someone else started and stops, for every session to share.
SHARED_CLUSTER_PORT = "VOXPRINT_TEST_POSTGRES_PORT"


def _server_binary(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if found is None:
        pytest.fail(
            f"PostgreSQL's {name} is not installed: run `scripts/install.sh --test` (it installs Debian's postgresql)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="voxprint-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(_server_binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self._run(
            _server_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )

    def _run(self, *command: str) -> None:
        if self._as_postgres:
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @classmethod
    def shared(cls, port: int) -> PostgresCluster:
        """The cluster another process started on ``port`` (it stops it, too)."""
        cluster = cls.__new__(cls)
        cluster.port = port
        return cluster

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        # Unique across sessions too, for sessions that share a cluster.
        name = f"voxprint_test_{next(_database_numbers)}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def connection_count(self, database_url: str) -> int:
        """Connections open to the database of ``database_url``, this query's own not counted."""
        return sum(self.connections_by_application(database_url).values())

    def connections_by_application(self, database_url: str) -> dict[str, int]:
        """Connections open to the database of ``database_url``, by application_name."""
        name = database_url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as admin:
            rows = admin.execute(
                "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = %s GROUP BY 1", (name,)
            ).fetchall()
        return dict(rows)

    def stop(self) -> None:
        self._run(_server_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def started_at(cls, root: Path) -> PostgresCluster:
        """The cluster ``python -m tests.support.postgres start`` left running in ``root``."""
        cluster = cls.__new__(cls)
        cluster.root, cluster.data, cluster._as_postgres = root, root / "data", os.geteuid() == 0
        return cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    if port := os.environ.get(SHARED_CLUSTER_PORT):
        yield PostgresCluster.shared(int(port))
        return
    cluster = PostgresCluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """The URL of a fresh, empty database on the test cluster."""
    return postgres_cluster.new_database()


if __name__ == "__main__":
    # ``start`` prints "PORT ROOT" of a cluster left running; ``stop ROOT`` stops it and removes it.
    if sys.argv[1:] == ["start"]:
        started = PostgresCluster()
        print(started.port, started.root)
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        PostgresCluster.started_at(Path(sys.argv[2])).stop()
    else:
        raise SystemExit("usage: python -m tests.support.postgres start | stop ROOT")
