"""Jobs as clients see them: created by Submit, read by GetJob, ListJobs, Watch and Fetch."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass

import peewee

from server.store.database import DatabaseAccess
from server.store.models import TERMINAL_STATE_VALUES, Job, RasterData, State


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


class DuplicateRequest(Exception):
    """A job with this request id already exists."""


class JobStore:
    def __init__(self, access: DatabaseAccess) -> None:
        self.access = access

    def create(self, new: NewJob, job_id: uuid.UUID) -> Job:
        try:
            with self.access.writing():
                return Job.create(id=job_id, **asdict(new))
        except peewee.IntegrityError as error:
            if new.request_id and self.by_request_id(new.request_id):
                raise DuplicateRequest(new.request_id) from error
            raise

    def get(self, job_id: uuid.UUID) -> Job | None:
        with self.access.reading():
            return Job.get_or_none(Job.id == job_id)

    def by_request_id(self, request_id: str) -> Job | None:
        with self.access.reading():
            return Job.get_or_none(Job.request_id == request_id)

    def raster_of(self, job_id: uuid.UUID) -> bytes | None:
        with self.access.reading():
            row = RasterData.get_or_none(RasterData.job == job_id)
        return bytes(row.data) if row else None

    def page(
        self, *, limit: int, before: tuple[dt.datetime, uuid.UUID] | None = None, state: State | None = None
    ) -> list[Job]:
        """Jobs newest first; ``before`` is the (created_at, id) of the last job of the previous page."""
        query = Job.select()
        if state is not None:
            query = query.where(Job.state == state.value)
        if before is not None:
            created, last_id = before
            query = query.where((Job.created_at < created) | ((Job.created_at == created) & (Job.id < last_id)))
        with self.access.reading():
            return list(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))

    def count_unfinished(self) -> int:
        with self.access.reading():
            return Job.select().where(Job.state.not_in(TERMINAL_STATE_VALUES)).count()
