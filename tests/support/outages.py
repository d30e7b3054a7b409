"""Outages on demand, for the outage tests and the chaos benchmark: a PostgreSQL cluster that can be
shut down and started again, an S3 endpoint that can be cut off, a replica that can be frozen, and
PostgreSQL running out of disk.

- ``RestartablePostgres`` is the suite's throw-away cluster (``tests.support.postgres``) with a
  ``shut_down`` (pg_ctl's fast shutdown: sessions are ended, a checkpoint is written) and a
  ``start`` with the options it was first started with. It is a cluster of its own, so stopping it
  disturbs no other test.
- ``TcpProxy`` relays loopback TCP to a server (moto's S3). ``cut()`` drops every connection it
  relays and refuses new ones, as an unreachable endpoint does; ``restore()`` listens again on the
  same port. The server behind it keeps running and keeps its data.
- ``freeze``/``thaw`` send SIGSTOP/SIGCONT to a replica process: a long GC pause, a VM migration.
- ``postgres_url_on_small_disk``: a database whose tables live in a tablespace on a small tmpfs,
  so filling the tmpfs makes PostgreSQL's own writes fail with SQLSTATE 53100 (disk full) while the
  cluster (its WAL, its other databases) goes on.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.postgres import PostgresCluster, _server_binary
from tests.support.replicas import ReplicaProcess
from voxprint.common.enums import is_terminal
from voxprint.v1 import voxprint_pb2 as pb

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class RestartablePostgres(PostgresCluster):
    """A cluster of its own that can be shut down and started again; a context manager that removes it."""

    def __init__(self) -> None:
        super().__init__()
        # What the postmaster was started with, as ``pg_ctl restart`` reads it: the binary and its
        # data directory first, then the options to start it with again.
        words = shlex.split((self.data / "postmaster.opts").read_text())
        self._options = shlex.join(words[3:])
        self.running = True

    def shut_down(self) -> None:
        """Fast shutdown: every session is ended and the server exits (pg_ctl -m fast)."""
        self._run(_server_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def start(self) -> None:
        """Start the cluster again on the same port and data; returns once it accepts connections."""
        pg_ctl = _server_binary("pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-o", self._options, "-l", str(self.root / "log"), "-w", "start")
        self.running = True

    @contextmanager
    def down(self) -> Iterator[None]:
        """The cluster is shut down for the duration of the block, and started again after it."""
        self.shut_down()
        try:
            yield
        finally:
            self.start()

    def stop(self) -> None:
        if self.running:
            super().stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> RestartablePostgres:
        return self

    def __exit__(self, *exception: object) -> None:
        self.stop()


class TcpProxy:
    """Relays connections to ``127.0.0.1:<port>`` on to ``target`` until ``cut``; ``url`` is its http:// address."""

    def __init__(self, target_url: str) -> None:
        host, port = target_url.removeprefix("http://").rsplit(":", 1)
        self.target = (host, int(port))
        self.port = 0  # any free port at first, the same one after each cut
        self._lock = threading.Lock()
        self._relayed: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()
        self.url = f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        """Accept connections again (on the same port)."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy", daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and drop the ones being relayed: the endpoint is unreachable."""
        with self._lock:
            listener, self._listener = self._listener, None
            relayed, self._relayed = self._relayed, set()
        if listener is not None:
            _close(listener)
        for connection in relayed:
            _close(connection)

    @contextmanager
    def cut_off(self) -> Iterator[None]:
        self.cut()
        try:
            yield
        finally:
            self.restore()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._relayed |= {client, upstream}
            for source, destination in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, destination), daemon=True).start()

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        with suppress(OSError):
            source.settimeout(None)
            while data := source.recv(64 * 1024):
                destination.sendall(data)
        # One side ended (or was cut): end the other too.
        for end in (source, destination):
            _close(end)
        with self._lock:
            self._relayed -= {source, destination}


def _close(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()


def freeze(replica: ReplicaProcess) -> None:
    """SIGSTOP: the process stops dead (threads, timers, heartbeats), its sockets stay open."""
    os.kill(replica.process.pid, signal.SIGSTOP)


def thaw(replica: ReplicaProcess) -> None:
    os.kill(replica.process.pid, signal.SIGCONT)


def health(replica: ReplicaProcess, timeout: float = 2.0) -> int | None:
    """The replica's overall grpc.health.v1 status, or None if it does not answer."""
    try:
        # The stub's type (types-grpcio-health-checking) leaves out its generated methods.
        stub = health_pb2_grpc.HealthStub(replica.channel)
        return stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout).status  # type: ignore[attr-defined]
    except grpc.RpcError:
        return None


def health_within(replica: ReplicaProcess, status: int, seconds: float) -> int | None:
    """The replica's health as soon as it is ``status``, or as it is after ``seconds``."""
    eventually(lambda: health(replica) == status, seconds)
    return health(replica)


def eventually(condition: Callable[[], bool], seconds: float, interval: float = 0.1) -> bool:
    """Whether ``condition`` holds within ``seconds`` (polled every ``interval``)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@pytest.fixture
def postgres_url_on_small_disk(
    postgres_cluster: PostgresCluster, small_tmpfs: Callable[[str], Path]
) -> Iterator[tuple[str, Path]]:
    """(URL, folder): a fresh database whose tables live on a 24 MiB tmpfs (``folder``), as a
    tablespace of the suite's cluster; its catalogs take about 8 MiB of it."""
    folder = small_tmpfs("24m")
    # The server must reach the tablespace, and pytest's temp dirs are private to this user: the
    # tmpfs is shown to it at a path of its own too (a bind mount of the same file system).
    tablespace = Path(tempfile.mkdtemp(prefix="voxprint-tablespace-"))
    subprocess.run(["mount", "--bind", str(folder), str(tablespace)], check=True)
    if os.geteuid() == 0:
        # The cluster runs as Debian's postgres user there, and a tablespace must be its own.
        shutil.chown(tablespace, "postgres", "postgres")
    name = f"voxprint_small_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
            admin.execute(f"CREATE TABLESPACE {name} LOCATION '{tablespace}'")
            admin.execute(f"CREATE DATABASE {name} TABLESPACE {name}")
        yield postgres_cluster.url(name), folder
        with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"DROP TABLESPACE IF EXISTS {name}")
    finally:
        subprocess.run(["umount", "--lazy", str(tablespace)], check=True)
        tablespace.rmdir()


def settle(replicas: list[ReplicaProcess], job_ids: list[str], seconds: float) -> dict[str, tuple[pb.Job, float]]:
    """Each job's final state and the moment (``time.monotonic()``) it was first seen final, polling
    GetJob on whichever replica answers; jobs not final within ``seconds`` are left out."""
    final: dict[str, tuple[pb.Job, float]] = {}
    deadline = time.monotonic() + seconds
    while len(final) < len(job_ids) and time.monotonic() < deadline:
        for job_id in job_ids:
            if job_id not in final and (job := _get_from_any(replicas, job_id)) and is_terminal(job):
                final[job_id] = (job, time.monotonic())
        time.sleep(0.1)
    return final


def _get_from_any(replicas: list[ReplicaProcess], job_id: str) -> pb.Job | None:
    for replica in replicas:
        try:
            return replica.stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=2)
        except grpc.RpcError:
            continue  # down, frozen or cut off from the database: ask another
    return None
