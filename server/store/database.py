"""Opening the database: the engine, a small bounded connection pool, and an up-to-date schema.

SQLite (the zero-setup default) runs in WAL mode so readers never wait for the writer, with
``synchronous=FULL`` so a job acknowledged by Submit survives a power cut. PostgreSQL (several
replicas on one database) goes through psycopg 3. Either way a replica holds at most
``pool_size`` connections: every store call borrows one for its duration and gives it back.
"""

from __future__ import annotations

import copy
import logging
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from voxprint.common.backoff import Backoff, call_with_retries
from voxprint.server.extras import POSTGRES, needs_extra
from voxprint.server.permissions import private_file
from voxprint.server.store.migrations import migrate
from voxprint.server.store.models import database

log = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 8
# How long a thread waits for a pooled connection before the call fails.
POOL_WAIT_SECONDS = 30

# Every database voxprint opens is pooled, so its connections can all be closed at shutdown.
PooledDatabase = PooledSqliteDatabase | PooledPostgresqlDatabase

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10_000,
    # FULL: the acknowledging commit reaches the disk before Submit answers (NORMAL would be
    # faster, and could lose the last acknowledged jobs to a power cut, though never corrupt).
    "synchronous": "full",
    "foreign_keys": 1,
}

# PostgreSQL NOTIFY channel on which every committed job change is announced as "<id> <version>".
CHANGE_CHANNEL = "voxprint_job_changes"


def open_database(
    url: str, *, pool_size: int = DEFAULT_POOL_SIZE, application_name: str = "voxprint"
) -> PooledDatabase:
    """Connect the models to ``url`` (``sqlite:///path`` or ``postgresql://…``), migrate, return it.

    ``application_name`` labels this replica's PostgreSQL connections (``pg_stat_activity``).
    """
    db = connect_database(url, pool_size=pool_size, application_name=application_name)
    database.initialize(db)
    migrate(db)
    return db


def connect_database(
    url: str, *, pool_size: int = DEFAULT_POOL_SIZE, application_name: str = "voxprint"
) -> PooledDatabase:
    """The database at ``url`` with a bounded pool, neither migrated nor bound to the models."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] or ":memory:"
        if path != ":memory:":
            _private_sqlite_files(Path(path))
        db: PooledDatabase = PooledSqliteDatabase(
            path,
            pragmas=SQLITE_PRAGMAS,
            max_connections=pool_size,
            timeout=POOL_WAIT_SECONDS,
            check_same_thread=False,
        )
    elif parts.scheme in ("postgres", "postgresql"):
        # psycopg is the optional 'postgres' extra: peewee would only fail on the first query.
        with needs_extra(POSTGRES, error=ValueError):
            import psycopg  # noqa: F401
        # psycopg takes the whole URL as its conninfo (host, port, user, password, sslmode, ...).
        conninfo = urlunsplit(parts._replace(scheme="postgresql"))
        db = PooledPostgresqlDatabase(
            conninfo,
            max_connections=pool_size,
            timeout=POOL_WAIT_SECONDS,
            prefer_psycopg3=True,
            application_name=application_name,
        )
    else:
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}: use sqlite:/// or postgresql://")
    return db


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def announce_change(db: peewee.Database, job_id: uuid.UUID, version: int) -> None:
    """Tell every replica's watchers that the job has a new version, when the transaction commits."""
    if is_postgres(db):
        db.execute_sql("SELECT pg_notify(%s, %s)", (CHANGE_CHANNEL, f"{job_id} {version}"))


def redacted(url: str) -> str:
    """``url`` without its password, fit for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class StoreFull(Exception):
    """The database has no space left for the write."""


# PostgreSQL's SQLSTATE for "disk full" (class 53, insufficient resources).
_POSTGRES_DISK_FULL = "53100"


def _is_disk_full(error: BaseException | None) -> bool:
    """Whether ``error``, or an error it arose from, is the driver's "disk full".

    SQLite rolls a transaction back by itself when the disk is full, so peewee's own ROLLBACK then
    fails ("cannot rollback") and hides the cause in the exception's context.
    """
    while error is not None:
        # Peewee wraps the driver's exception and passes it as the first argument.
        driver_error = error.args[0] if isinstance(error, peewee.DatabaseError) and error.args else error
        if (
            getattr(driver_error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(driver_error, "sqlstate", None) == _POSTGRES_DISK_FULL
        ):
            return True
        error = error.__context__
    return False


def _is_unreachable(error: Exception) -> bool:
    """Whether connecting failed for want of a server (refused, starting up, shutting down)."""
    return isinstance(error, (peewee.OperationalError, peewee.InterfaceError))


class DatabaseAccess:
    """Borrowing pooled connections for reads and writes; shared by the job store and the queue.

    On SQLite, writes from this process take turns on a lock before they reach the database:
    SQLite allows one writer at a time, and a writer that finds it busy backs off by sleeping (up
    to 100 ms a try), while queueing on a lock hands the database over in microseconds.
    PostgreSQL locks rows, so its writers go straight in.
    """

    def __init__(self, db: PooledDatabase) -> None:
        self.db = db
        self.postgres = is_postgres(db)
        # The driver's placeholder for a bound parameter.
        self._param = db.param
        self._write_turn = nullcontext() if self.postgres else threading.Lock()
        # How to wait for a database that cannot be reached; None: fail at once (see ``patient``).
        self._reconnect: Backoff | None = None

    def patient(self, seconds: float) -> DatabaseAccess:
        """This access (same pool, same write turn), waiting up to ``seconds`` for a connection when
        the database cannot be reached (restarting, failing over) instead of failing at once.

        The workers use it: a stage's result that meets a restarting PostgreSQL is written once it
        is back, not thrown away and computed again. Only getting a connection is waited for, so a
        transaction is never run twice. Requests do not wait: their clients hear UNAVAILABLE at
        once and retry themselves.
        """
        patient = copy.copy(self)
        # Short waits: a database that is back is used within 2 s.
        patient._reconnect = Backoff(attempts=None, initial_delay=0.1, max_delay=2.0, jitter=0.1, give_up_after=seconds)
        return patient

    def clock(self, plus_seconds: float = 0.0) -> peewee.Node:
        """The database's own time (UTC, as the job table stores times), ``plus_seconds`` on.

        Leases are written and compared by this clock, not by each replica's: every replica reads
        the same one, so a replica whose clock runs fast takes no live job, and one running slow
        leaves no dead job unclaimed. clock_timestamp(), not now(): a transaction's now() stands
        still while the transaction waits for a lock.
        """
        if self.postgres:
            return peewee.SQL("((clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => %s))", (plus_seconds,))
        # SQLite's own time, as text in the stored format (to the millisecond); one process serves it.
        return peewee.SQL("strftime('%Y-%m-%d %H:%M:%f', 'now', ?)", (f"{plus_seconds:+.3f} seconds",))

    @contextmanager
    def _connection(self) -> Iterator[None]:
        """A pooled connection for the block (the pool discards the ones a restart broke)."""
        if self._reconnect is not None and self.db.is_closed():
            call_with_retries(
                self.db.connect,
                backoff=self._reconnect,
                is_transient=_is_unreachable,
                describe="connecting to the database",
                logger=log,
            )
        with self.db.connection_context():
            yield

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._connection():
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """A transaction for writes. A full disk, on SQLite or PostgreSQL, is :class:`StoreFull`
        whichever write met it (a Submit, a stage, a release, the health probe), not whatever
        error the failed rollback left on top of it."""
        try:
            with self._write_turn, self._connection(), self.db.atomic():
                yield
        except peewee.OperationalError as error:
            if _is_disk_full(error):
                raise StoreFull("no space left on the database's disk") from error
            raise

    def probe_write(self) -> None:
        """Write a row and take it back in one transaction, in a table of its own: raises (StoreFull
        on a full disk) as any write would now."""
        with self.writing():
            probe = str(uuid.uuid4())
            self.db.execute_sql(
                f"INSERT INTO write_probe (id, payload) VALUES ({self._param}, {self._param})", (probe, probe * 8)
            )
            self.db.execute_sql(f"DELETE FROM write_probe WHERE id = {self._param}", (probe,))

    def close(self) -> None:
        """Close every pooled connection (at shutdown)."""
        self.db.close_all()


def _private_sqlite_files(path: Path) -> None:
    """The database file, made 0600 before SQLite opens it: SQLite gives its -wal and -shm files the
    main file's mode, so all three stay private (including files an older voxprint left wider)."""
    if not path.parent.is_dir():
        return  # SQLite says so itself when it cannot open the file
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file == path or file.exists():
            private_file(file)
