"""The job store: one Peewee model, its schema migrations, and the database-backed work queue.

Everything database-specific lives here. SQLite is the default (WAL journal, busy timeout); any
``playhouse.db_url`` URL works, so the same code can run on PostgreSQL later.

The queue is the ``job`` table itself: a worker *claims* an unfinished job by writing its owner
token into ``claimed_by`` with a conditional UPDATE, so two workers can never take the same job.
On start the server releases every claim (one server process owns a database), which is how jobs
interrupted by a crash or ``kill -9`` get picked up again from their last finished stage.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import peewee
from playhouse.db_url import connect
from playhouse.migrate import SchemaMigrator

database = peewee.DatabaseProxy()

# SQLite pragmas: WAL lets readers (Watch, Fetch) run while a worker writes; the busy timeout makes
# concurrent writers wait instead of failing; synchronous=NORMAL is durable in WAL mode except for
# the last transactions before a power cut, never corrupting.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "busy_timeout": 10_000,
    "synchronous": "normal",
    "foreign_keys": 1,
}


class State(str, enum.Enum):
    PENDING = "pending"
    TRANSCRIBING = "transcribing"
    TRANSCRIBED = "transcribed"
    GENERATING_IMAGE = "generating_image"
    RASTERIZING = "rasterizing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (State.COMPLETED, State.FAILED)


class Stage(str, enum.Enum):
    TRANSCRIBE = "transcribe"
    ILLUSTRATE = "illustrate"
    RASTERIZE = "rasterize"


TERMINAL_STATES = [State.COMPLETED.value, State.FAILED.value]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database


class SchemaVersion(BaseModel):
    version = peewee.IntegerField()


class Job(BaseModel):
    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
    request_id = peewee.CharField(max_length=128, null=True, unique=True)
    state = peewee.CharField(max_length=32, default=State.PENDING.value, index=True)
    version = peewee.IntegerField(default=1)
    # The worker token holding this job; NULL when nobody is working on it.
    claimed_by = peewee.CharField(max_length=64, null=True)

    # The recording. Paths are relative to the media directory so the data dir can move.
    filename = peewee.CharField(max_length=255, default="")
    content_type = peewee.CharField(max_length=64, default="")
    audio_path = peewee.CharField(max_length=255)
    audio_size = peewee.IntegerField()
    audio_duration = peewee.FloatField()

    # Print options, fixed at submit time.
    width = peewee.IntegerField()
    dither = peewee.CharField(max_length=32)

    # Results, filled in stage by stage.
    transcript = peewee.TextField(null=True)
    error = peewee.TextField(null=True)
    error_stage = peewee.CharField(max_length=32, null=True)
    image_path = peewee.CharField(max_length=255, null=True)
    image_width = peewee.IntegerField(null=True)
    image_height = peewee.IntegerField(null=True)
    image_size = peewee.IntegerField(null=True)
    raster = peewee.BlobField(null=True)
    raster_width = peewee.IntegerField(null=True)
    raster_height = peewee.IntegerField(null=True)
    raster_bytes_per_row = peewee.IntegerField(null=True)

    transcriber = peewee.CharField(max_length=128, default="")
    illustrator = peewee.CharField(max_length=128, default="")
    # {"transcribe": seconds, ...} in the order the stages finished.
    timings = peewee.TextField(default="{}")

    created_at = peewee.DateTimeField(default=utcnow, index=True)
    updated_at = peewee.DateTimeField(default=utcnow)

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def stage_timings(self) -> dict[str, float]:
        return json.loads(self.timings)


# Schema migrations, applied in order on start; the list index + 1 is the schema version.
# Each one receives the database and a playhouse SchemaMigrator for column changes.
Migration = Callable[[peewee.Database, SchemaMigrator], None]


def _create_tables(db: peewee.Database, migrator: SchemaMigrator) -> None:
    db.create_tables([Job])


MIGRATIONS: list[Migration] = [_create_tables]


def open_database(url: str) -> peewee.Database:
    """Connect ``database`` to ``url`` and bring its schema up to date."""
    db = connect(url)
    if isinstance(db, peewee.SqliteDatabase):
        db = peewee.SqliteDatabase(db.database, pragmas=SQLITE_PRAGMAS, timeout=10)
    database.initialize(db)
    migrate(db, MIGRATIONS)
    return db


def schema_version(db: peewee.Database) -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().first()
    return row.version if row else 0


def migrate(db: peewee.Database, migrations: list[Migration]) -> None:
    """Apply the migrations newer than the database's schema version, each in its own transaction."""
    db.create_tables([SchemaVersion])
    migrator = SchemaMigrator.from_database(db)
    current = schema_version(db)
    for number, step in enumerate(migrations[current:], start=current + 1):
        with db.atomic():
            step(db, migrator)
            SchemaVersion.delete().execute()
            SchemaVersion.create(version=number)


@dataclass(frozen=True)
class NewJob:
    request_id: str | None
    filename: str
    content_type: str
    audio_path: str
    audio_size: int
    audio_duration: float
    width: int
    dither: str


class ConcurrentUpdate(RuntimeError):
    """A job's row was not at the version its writer expected."""


class DuplicateRequest(Exception):
    """A job with this request id already exists."""


class JobStore:
    """All reads and writes of jobs. Thread-safe: peewee keeps one connection per thread.

    Writes from this process take turns on a lock before they reach the database. SQLite allows
    one writer at a time, and a writer that finds the database busy backs off by sleeping (up to
    100 ms a try); queueing on a lock instead hands the database over in microseconds.
    """

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self._write_lock = threading.Lock()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._write_lock, self.db.atomic():
            yield

    def create(self, new: NewJob, job_id: uuid.UUID) -> Job:
        try:
            with self._writing():
                return Job.create(id=job_id, **new.__dict__)
        except peewee.IntegrityError as error:
            if new.request_id and self.by_request_id(new.request_id):
                raise DuplicateRequest(new.request_id) from error
            raise

    def get(self, job_id: uuid.UUID) -> Job | None:
        return Job.get_or_none(Job.id == job_id)

    def by_request_id(self, request_id: str) -> Job | None:
        return Job.get_or_none(Job.request_id == request_id)

    def page(
        self, *, limit: int, before: tuple[dt.datetime, uuid.UUID] | None = None, state: State | None = None
    ) -> list[Job]:
        """Jobs newest first; ``before`` is the (created_at, id) of the last job of the previous page."""
        query = Job.select(*[f for f in Job._meta.sorted_fields if f is not Job.raster])
        if state is not None:
            query = query.where(Job.state == state.value)
        if before is not None:
            created, last_id = before
            query = query.where((Job.created_at < created) | ((Job.created_at == created) & (Job.id < last_id)))
        return list(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))

    def update(self, job: Job, **changes: Any) -> Job:
        """Write ``changes`` to the job and bump its version; returns the job as now stored.

        Only the worker holding the job's claim writes to it, so the row is expected at the
        version this worker last saw; anything else is a bug worth stopping on.
        """
        with self._writing():
            # Stamped once the lock is ours, so updated_at is the moment of the write.
            changes.update(version=job.version + 1, updated_at=utcnow())
            written = Job.update(**changes).where(Job.id == job.id, Job.version == job.version).execute()
        if written != 1:
            raise ConcurrentUpdate(f"job {job.id} changed under its worker (expected version {job.version})")
        for name, value in changes.items():
            setattr(job, name, value)
        return job

    def claim_next(self, owner: str) -> Job | None:
        """Take the oldest unfinished, unclaimed job for ``owner``; None when there is none."""
        while True:
            candidate = (
                Job.select(Job.id)
                .where(Job.state.not_in(TERMINAL_STATES), Job.claimed_by.is_null())
                .order_by(Job.created_at)
                .first()
            )
            if candidate is None:
                return None
            with self._writing():
                taken = Job.update(claimed_by=owner).where(Job.id == candidate.id, Job.claimed_by.is_null()).execute()
            if taken:
                return Job.get_by_id(candidate.id)
            # Another worker won the race for this one; look again.

    def release(self, job: Job) -> None:
        with self._writing():
            Job.update(claimed_by=None).where(Job.id == job.id).execute()

    def release_all_claims(self) -> int:
        """Forget every claim left by a previous process; returns how many jobs that frees."""
        with self._writing():
            return (
                Job.update(claimed_by=None)
                .where(Job.claimed_by.is_null(False), Job.state.not_in(TERMINAL_STATES))
                .execute()
            )

    def count_unfinished(self) -> int:
        return Job.select().where(Job.state.not_in(TERMINAL_STATES)).count()

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()
