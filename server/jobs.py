"""What the API does with jobs, in domain terms: submit a recording or draw a phrase, read a job,
fetch its results, list.

Nothing here knows protobuf or gRPC. Every operation runs for one tenant and raises a
:class:`JobError` subclass whose message is meant for the caller (never a path or a traceback);
the servicer translates requests in and results and errors out. All of it blocks (database,
media, decoding): call it off the event loop.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import peewee

from voxprint import rasterizer
from voxprint.common.enums import Format, FormatValue
from voxprint.server import audio
from voxprint.server.capacity import CapacityReached, SharedCapacity
from voxprint.server.config import Settings
from voxprint.server.media import Media, MediaError, MediaFull, MediaMissing
from voxprint.server.store import DuplicateRequest, Job, JobStore, NewJob, State, StoreFull

log = logging.getLogger(__name__)

MAX_REQUEST_ID_LENGTH = 128
MAX_FILENAME_LENGTH = 255
MAX_PHRASE_LENGTH = 500
# What a drawn phrase's job says in place of a recording's type, and of a speech-to-text backend.
PHRASE_CONTENT_TYPE = "text/plain"
PHRASE_TRANSCRIBER = "text"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# All uploads in progress together: what many clients uploading at once can make the server hold
# (20 recordings of the default 25 MiB limit; 64 clients uploading 5 MB each fit).
UPLOADS_IN_MEMORY_BYTES = 512 * 1024 * 1024


class JobError(Exception):
    """A request that cannot be served; the message says why, to the caller."""


class InvalidRequest(JobError):
    """The request itself is wrong: bad options, an unreadable recording, a forged token."""


class NotFound(JobError):
    """No such job for this tenant."""


class NotReady(JobError):
    """The job exists but has no result of the kind asked for (yet, or ever)."""


class TooLarge(JobError):
    """The upload passes a server limit."""


class StorageFull(JobError):
    """The database or the media storage has no space left."""


class StorageUnavailable(JobError):
    """The database or the media storage failed; trying again later may work."""


class Busy(JobError):
    """The server is at one of its capacity limits right now; trying again shortly may work."""


class DataLost(JobError):
    """A stored result the job points at is gone."""


@dataclass(frozen=True)
class Submission:
    """A checked Submit header: who submits, under which request id, and how to print."""

    tenant: str
    request_id: str | None
    filename: str
    width: int
    dither: str


@dataclass(frozen=True)
class Result:
    data: bytes
    content_type: str
    width: int
    height: int
    bytes_per_row: int = 0


@dataclass(frozen=True)
class Page:
    jobs: list[Job]
    next_token: str


class Upload:
    """The recording as it arrives in chunks, refused as soon as it passes the size limit.

    It is held in memory (never more than the limit, and never more than the budget all uploads
    share) and written once, off the event loop: file operations per chunk on the loop cost more
    than the copy. Use it as a context manager: leaving it gives its memory back to the budget.
    """

    def __init__(self, limit: int, budget: SharedCapacity, tenant: str) -> None:
        self.limit = limit
        self.budget = budget
        self.tenant = tenant
        self._data = bytearray()
        # Bytes taken from the budget: the recording's size, whether as chunks or as one copy.
        self._counted = 0

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exception: object) -> None:
        self.budget.give_back(self.tenant, self._counted)
        self._data = bytearray()

    def add(self, chunk: bytes) -> None:
        if len(self._data) + len(chunk) > self.limit:
            raise TooLarge(f"the recording is larger than the server's limit of {self.limit} bytes")
        try:
            self.budget.take(self.tenant, len(chunk))
        except CapacityReached as reached:
            who = "this tenant is sending" if reached.tenant_share else "the server is receiving"
            raise Busy(f"{who} too many uploads at once; try again shortly") from None
        self._counted += len(chunk)
        self._data += chunk

    def recording(self) -> bytes:
        """The whole recording as one ``bytes``; the chunks' buffer is let go, so the upload keeps
        holding about its size (the budget's count), not twice it."""
        if not self._data:
            raise InvalidRequest("the upload is empty: no audio was sent")
        whole, self._data = bytes(self._data), bytearray()
        return whole


class Jobs:
    def __init__(
        self, settings: Settings, store: JobStore, media: Media, on_write_failure: Callable[[], None], tenants: int = 1
    ) -> None:
        self.settings = settings
        self.store = store
        self.media = media
        # Told when storing fails, so health can report it until writes work again.
        self.on_write_failure = on_write_failure
        self._upload_memory = SharedCapacity(UPLOADS_IN_MEMORY_BYTES, tenants)

    # -- Submit ---------------------------------------------------------------------------------

    def submission(self, tenant: str, *, filename: str, request_id: str, width: int, dither: str | None) -> Submission:
        """Check a Submit header; ``width`` 0 and ``dither`` None take the server's defaults."""
        try:
            checked_width = rasterizer.check_width(width or self.settings.default_width)
        except ValueError as error:
            raise InvalidRequest(f"printer {error}") from error
        return Submission(
            tenant=tenant,
            request_id=_checked_request_id(request_id),
            filename=_checked_filename(filename),
            width=checked_width,
            dither=dither or self.settings.default_dither,
        )

    def upload(self, tenant: str) -> Upload:
        return Upload(self.settings.max_upload_bytes, self._upload_memory, tenant)

    def previous(self, submission: Submission) -> Job | None:
        """The job an earlier Submit with the same request id made, for an idempotent retry."""
        if submission.request_id is None:
            return None
        with _reading_errors():
            return self.store.by_request_id(submission.tenant, submission.request_id)

    def create(self, submission: Submission, recording: bytes, job_id: uuid.UUID) -> Job:
        """Store the recording, then the job as ``job_id``; nothing of either remains if one fails.

        With a request id another upload already used, the answer is that upload's job instead.
        """
        try:
            info = audio.inspect(recording, max_seconds=self.settings.max_audio_seconds)
        except audio.InvalidAudio as error:
            raise InvalidRequest(str(error)) from error
        audio_path = f"audio/{job_id}.{info.extension}"
        with _storage_errors(job_id, "the recording", self.on_write_failure):
            self.media.put(audio_path, recording)
        new = NewJob(
            tenant=submission.tenant,
            request_id=submission.request_id,
            filename=submission.filename,
            content_type=info.content_type,
            audio_path=audio_path,
            audio_size=len(recording),
            audio_duration=info.duration,
            width=submission.width,
            dither=submission.dither,
        )
        try:
            with _storage_errors(job_id, "the job", self.on_write_failure):
                return self.store.create(new, job_id)
        except DuplicateRequest as duplicate:
            # A retry with the same request id on another replica won the race: answer with its job.
            self.media.delete(audio_path)
            return duplicate.job
        except BaseException:
            self.media.delete(audio_path)
            raise

    def draw(self, submission: Submission, phrase: str) -> Job:
        """A job that draws ``phrase``: its transcript from the start, so no speech-to-text runs.

        With a request id an earlier Draw (here or on another replica) already used, the answer is
        that request's job.
        """
        new = NewJob(
            tenant=submission.tenant,
            request_id=submission.request_id,
            filename="",
            content_type=PHRASE_CONTENT_TYPE,
            audio_path="",
            audio_size=0,
            audio_duration=0.0,
            width=submission.width,
            dither=submission.dither,
            transcript=checked_phrase(phrase),
            state=State.TRANSCRIBED.value,
            transcriber=PHRASE_TRANSCRIBER,
        )
        if previous := self.previous(submission):
            return previous
        job_id = uuid.uuid4()
        try:
            with _storage_errors(job_id, "the job", self.on_write_failure):
                return self.store.create(new, job_id)
        except DuplicateRequest as duplicate:
            return duplicate.job

    def discard(self, job: Job) -> None:
        """Undo ``create`` for an upload whose client cancelled before it got the job."""
        self.store.delete(job.id)
        self.media.delete(job.audio_path)
        log.info("job %s discarded: its client cancelled the upload", job.id)

    # -- reading --------------------------------------------------------------------------------

    def get(self, tenant: str, job_id: str) -> Job:
        checked = checked_job_id(job_id)
        with _reading_errors():
            job = self.store.get(checked, tenant=tenant)
        if job is None:
            raise NotFound(f"no job with id {job_id}")
        return job

    def fetch(self, tenant: str, job_id: str, format: FormatValue) -> Result:
        job = self.get(tenant, job_id)
        if format == Format.FORMAT_PNG:
            picture = job.stored_picture
            if picture is None:
                raise _not_ready(job, "an image")
            return Result(self._picture_bytes(job.id, picture.path), "image/png", picture.width, picture.height)
        shape = job.raster_shape
        if shape is None:
            raise _not_ready(job, "a raster")
        with _reading_errors():
            raster_bytes = self.store.raster_of(job.id)
        if raster_bytes is None:
            raise DataLost(f"the raster of job {job.id} is missing from the database")
        raster = rasterizer.Raster(
            data=raster_bytes, width=shape.width, height=shape.height, bytes_per_row=shape.bytes_per_row
        )
        if format == Format.FORMAT_RAW:
            return Result(raster.data, "application/octet-stream", shape.width, shape.height, shape.bytes_per_row)
        return Result(rasterizer.preview(raster), "image/png", shape.width, shape.height)

    def _picture_bytes(self, job_id: uuid.UUID, path: str) -> bytes:
        try:
            return self.media.get(path)
        except MediaMissing:
            raise DataLost(f"the picture of job {job_id} is missing from the media storage") from None
        except MediaError as error:
            raise StorageUnavailable(f"cannot read the picture of job {job_id}: {error}") from error

    def page(self, tenant: str, *, size: int, token: str, state: State | None) -> Page:
        """One page of the tenant's jobs, newest first; ``size`` 0 takes the default."""
        size = size or DEFAULT_PAGE_SIZE
        if size > MAX_PAGE_SIZE:
            raise InvalidRequest(f"page_size is between 1 and {MAX_PAGE_SIZE}")
        before = decode_page_token(token) if token else None
        # One extra row tells whether another page exists.
        with _reading_errors():
            jobs = self.store.page(tenant, limit=size + 1, before=before, state=state)
        next_token = encode_page_token(jobs[size - 1]) if len(jobs) > size else ""
        return Page(jobs[:size], next_token)


@contextmanager
def _reading_errors() -> Iterator[None]:
    """A database that cannot be read is UNAVAILABLE to the caller; the cause is logged."""
    try:
        yield
    except peewee.DatabaseError as error:
        log.error("cannot read the job store", exc_info=error)
        raise StorageUnavailable("the job store cannot be read right now; try again later") from error


@contextmanager
def _storage_errors(job_id: uuid.UUID, what: str, on_failure: Callable[[], None]) -> Iterator[None]:
    """Storage failures as domain errors; the cause is logged with the job id, never shown to the client."""
    try:
        yield
    except (MediaFull, StoreFull) as error:
        log.warning("job %s: cannot store %s: %s", job_id, what, error)
        on_failure()
        raise StorageFull(f"no space left to store {what}; try again later") from error
    except (DuplicateRequest, peewee.IntegrityError):
        raise
    except peewee.DataError as error:
        # The database refused a value of this request: the request's fault, not an outage (which
        # would send clients retrying and take this replica out of the load balancer's rotation).
        log.warning("job %s: the job store refused a value of the request: %s", job_id, error)
        raise InvalidRequest("the request holds a value the job store cannot keep") from error
    except (MediaError, peewee.DatabaseError) as error:
        log.error("job %s: cannot store %s", job_id, what, exc_info=error)
        on_failure()
        raise StorageUnavailable(f"cannot store {what} right now; try again later") from error


def _not_ready(job: Job, missing: str) -> NotReady:
    """Why the job has no stored result of the kind asked for."""
    state = job.state_enum
    if state is State.FAILED:
        return NotReady(f"job failed, there is no image: {job.error}")
    if state is State.COMPLETED:
        return NotReady(f"job completed without {missing}: {job.error}")
    return NotReady(f"not ready yet: the job is {state.value}; Watch it or try again later")


def checked_job_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidRequest(f"job_id must be a UUID as returned by Submit, not {raw[:64]!r}") from None


def checked_phrase(raw: str) -> str:
    """The phrase as it will be drawn: white space folded to single spaces; printable, not empty, not
    longer than MAX_PHRASE_LENGTH."""
    phrase = " ".join(raw.split())
    if not phrase:
        raise InvalidRequest("the phrase is empty: say what to draw")
    if len(phrase) > MAX_PHRASE_LENGTH:
        raise InvalidRequest(f"the phrase is longer than {MAX_PHRASE_LENGTH} characters")
    if not phrase.isprintable():
        raise InvalidRequest("the phrase holds control characters; send printable text only")
    return phrase


def _checked_filename(raw: str) -> str:
    # Kept for people and shown by clients: a NUL or an escape sequence has no place in it (and
    # PostgreSQL refuses NUL, which must not pass for a storage outage).
    if not raw.isprintable():
        raise InvalidRequest("filename holds control characters; send printable text only")
    return Path(raw).name[:MAX_FILENAME_LENGTH]


def _checked_request_id(raw: str) -> str | None:
    if not raw:
        return None
    if len(raw) > MAX_REQUEST_ID_LENGTH or not raw.isascii() or not raw.isprintable():
        raise InvalidRequest(f"request_id must be at most {MAX_REQUEST_ID_LENGTH} printable ASCII characters")
    return raw


def encode_page_token(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode()


def decode_page_token(token: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        created, job_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        return dt.datetime.fromisoformat(created), uuid.UUID(job_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("page_token is not one this server issued") from None
