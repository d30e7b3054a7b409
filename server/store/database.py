"""Opening the database: the engine, a small bounded connection pool, and an up-to-date schema.

SQLite (the zero-setup default) runs in WAL mode so readers never wait for the writer, with
``synchronous=FULL`` so a job acknowledged by Submit survives a power cut. PostgreSQL (several
replicas on one database) goes through psycopg 3. Either way a replica holds at most
``pool_size`` connections: every store call borrows one for its duration and gives it back.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from voxprint.server.extras import POSTGRES, needs_extra
from voxprint.server.permissions import private_file
from voxprint.server.store.migrations import migrate
from voxprint.server.store.models import database

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
        self._write_turn = nullcontext() if self.postgres else threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self.db.connection_context():
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._write_turn, self.db.connection_context(), self.db.atomic():
            yield

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
