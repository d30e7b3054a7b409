"""The job tables as Peewee models: what a job is, not how it is queued or migrated."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from dataclasses import dataclass

import peewee

from voxprint.common.enums import TERMINAL_STATES as TERMINAL_JOB_STATES
from voxprint.common.enums import JobState

# Bound to the real database by ``server.store.database.open_database``.
database = peewee.DatabaseProxy()


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
        return self in TERMINAL_STATES


class Stage(str, enum.Enum):
    TRANSCRIBE = "transcribe"
    ILLUSTRATE = "illustrate"
    RASTERIZE = "rasterize"


# The tenant of jobs stored before tenants existed, and of a server with one token or none.
DEFAULT_TENANT = "default"

# A stored state is its contract JobState's name in lower case (JOB_STATE_FAILED is "failed"), so
# which states are terminal is read from the one definition both sides share.
TERMINAL_STATES = frozenset(
    State(JobState.Name(value).removeprefix("JOB_STATE_").lower()) for value in TERMINAL_JOB_STATES
)
# Jobs not yet in a terminal state, as SQL. Written out as a literal (not bound parameters) so
# PostgreSQL can match it to the partial index job_claimable, whose predicate is the same text,
# "state NOT IN ('completed', 'failed')" (migration m002, frozen as it was written).
UNFINISHED = peewee.SQL(f"state NOT IN ({', '.join(repr(state.value) for state in sorted(TERMINAL_STATES))})")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class StoredPicture:
    """The picture the illustrate stage stored: its media key, its size in pixels and in bytes."""

    path: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class RasterShape:
    """The shape of the raster the rasterize stage stored (its bytes are in RasterData)."""

    width: int
    height: int
    bytes_per_row: int

    @property
    def size_bytes(self) -> int:
        return self.bytes_per_row * self.height


class BaseModel(peewee.Model):
    class Meta:
        database = database


class Job(BaseModel):
    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)
    # Who submitted the job: only that tenant can see it. Request ids are unique per tenant.
    tenant = peewee.CharField(max_length=64, default=DEFAULT_TENANT)
    request_id = peewee.CharField(max_length=128, null=True)
    state = peewee.CharField(max_length=32, default=State.PENDING.value, index=True)
    version = peewee.IntegerField(default=1)

    # The claim (see server.store.queue): which replica works on the job, the token of this claim
    # (every worker write is fenced by it), until when the claim holds without a heartbeat, and
    # how many claims the job has seen (media written by a claim are keyed by it).
    claimed_by = peewee.CharField(max_length=64, null=True)
    lease_token = peewee.CharField(max_length=32, null=True)
    lease_expires_at = peewee.DateTimeField(null=True)
    attempt = peewee.IntegerField(default=0)

    # The recording. Paths are media keys (server.media), so the storage can move.
    filename = peewee.CharField(max_length=255, default="")
    content_type = peewee.CharField(max_length=64, default="")
    audio_path = peewee.CharField(max_length=255)
    audio_size = peewee.IntegerField()
    audio_duration = peewee.FloatField()

    # Print options, fixed at submit time.
    width = peewee.IntegerField()
    dither = peewee.CharField(max_length=32)

    # Results, filled in stage by stage. The raster's bytes live in their own table (RasterData)
    # so that every GetJob, Watch and ListJobs reads a small row.
    transcript = peewee.TextField(null=True)
    error = peewee.TextField(null=True)
    error_stage = peewee.CharField(max_length=32, null=True)
    image_path = peewee.CharField(max_length=255, null=True)
    image_width = peewee.IntegerField(null=True)
    image_height = peewee.IntegerField(null=True)
    image_size = peewee.IntegerField(null=True)
    raster_width = peewee.IntegerField(null=True)
    raster_height = peewee.IntegerField(null=True)
    raster_bytes_per_row = peewee.IntegerField(null=True)

    transcriber = peewee.CharField(max_length=128, default="")
    illustrator = peewee.CharField(max_length=128, default="")
    # {"transcribe": seconds, ...} in the order the stages finished.
    timings = peewee.TextField(default="{}")

    created_at = peewee.DateTimeField(default=utcnow, index=True)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("tenant", "request_id"), True),)

    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def stage_timings(self) -> dict[str, float]:
        return json.loads(self.timings)

    # The stages fill their result columns together in one write, so these views see all of a
    # result or none of it: callers narrow one Optional instead of each nullable column.
    @property
    def stored_picture(self) -> StoredPicture | None:
        if self.image_path is None or self.image_width is None or self.image_height is None or self.image_size is None:
            return None
        return StoredPicture(self.image_path, self.image_width, self.image_height, self.image_size)

    @property
    def raster_shape(self) -> RasterShape | None:
        if self.raster_width is None or self.raster_height is None or self.raster_bytes_per_row is None:
            return None
        return RasterShape(self.raster_width, self.raster_height, self.raster_bytes_per_row)


class RasterData(BaseModel):
    """The printer bytes of a finished job, read only by Fetch RAW / PREVIEW."""

    job = peewee.ForeignKeyField(Job, primary_key=True, on_delete="CASCADE", column_name="job_id")
    data = peewee.BlobField()

    class Meta:
        table_name = "raster_data"
