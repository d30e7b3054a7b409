"""The gRPC servicer: argument checking and status codes; the work happens elsewhere.

Handlers run on the asyncio loop. Anything that blocks (file and database writes, decoding the
upload) goes to the service's own thread pool, so thousands of idle Watch streams keep costing
nothing but memory. The pool is larger than asyncio's default because most of its time is spent
waiting for fsync, not computing.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import grpc

import rasterizer
from server import audio
from server.config import Settings
from server.events import JobEvents
from server.media import Media, MediaError, MediaFull, MediaMissing
from server.messages import DITHERS_FROM_PROTO, STATES_FROM_PROTO, job_to_proto
from server.store import DuplicateRequest, Job, JobStore, NewJob, State
from voxprint.v1 import voxprint_pb2 as pb
from voxprint.v1 import voxprint_pb2_grpc

log = logging.getLogger(__name__)

MAX_REQUEST_ID_LENGTH = 128
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

IO_THREADS = 32
# A Watch stream that hears nothing for this long re-reads its job.
WATCH_RECHECK_SECONDS = 15.0

T = TypeVar("T")


class RequestError(Exception):
    """Ends an RPC with ``code`` and a message meant for the caller."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _unary(handler: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(handler)
    async def answering(self, request, context: grpc.aio.ServicerContext) -> T:
        try:
            return await handler(self, request, context)
        except RequestError as error:
            await context.abort(error.code, str(error))

    return answering


def _streaming(handler: Callable[..., AsyncIterator[T]]) -> Callable[..., AsyncIterator[T]]:
    @functools.wraps(handler)
    async def streaming(self, request, context: grpc.aio.ServicerContext) -> AsyncIterator[T]:
        try:
            async for message in handler(self, request, context):
                yield message
        except RequestError as error:
            await context.abort(error.code, str(error))

    return streaming


class VoxprintService(voxprint_pb2_grpc.VoxprintServicer):
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        media: Media,
        events: JobEvents,
        on_submitted: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.media = media
        self.events = events
        self.on_submitted = on_submitted
        self._threads = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="voxprint-io")

    async def _blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    def close(self) -> None:
        self._threads.shutdown(wait=True)

    # -- Submit ---------------------------------------------------------------------------------

    @_unary
    async def Submit(
        self, request_iterator: AsyncIterator[pb.SubmitRequest], context: grpc.aio.ServicerContext
    ) -> pb.Job:
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None or first.WhichOneof("payload") != "metadata":
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, "the first Submit message must carry metadata")
        metadata = first.metadata
        width, dither = self._print_options(metadata.options)
        request_id = _checked_request_id(metadata.request_id)
        if request_id and (existing := await self._blocking(self.store.by_request_id, request_id)):
            return job_to_proto(existing)

        recording = await self._receive_upload(requests)
        job = await self._blocking(self._create_job, recording, metadata, request_id, width, dither)
        self.on_submitted()
        log.info("job %s submitted (%s, %.1f s of audio)", job.id, job.content_type, job.audio_duration)
        return job_to_proto(job)

    async def _receive_upload(self, requests: AsyncIterator[pb.SubmitRequest]) -> bytes:
        """Collect the audio chunks, refusing the upload as soon as it passes the size limit.

        The recording is held in memory (never more than the limit, 25 MiB by default) and written
        once, off the event loop: file operations per chunk on the loop cost more than the copy.
        """
        limit = self.settings.max_upload_bytes
        recording = bytearray()
        async for request in requests:
            if request.WhichOneof("payload") != "audio_chunk":
                raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, "only the first Submit message may carry metadata")
            if len(recording) + len(request.audio_chunk) > limit:
                raise RequestError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"the recording is larger than the server's limit of {limit} bytes",
                )
            recording += request.audio_chunk
        if not recording:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, "the upload is empty: no audio was sent")
        return bytes(recording)

    def _create_job(
        self, recording: bytes, metadata: pb.SubmitMetadata, request_id: str | None, width: int, dither: str
    ) -> Job:
        try:
            info = audio.inspect(recording, max_seconds=self.settings.max_audio_seconds)
        except audio.InvalidAudio as error:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, str(error)) from error
        job_id = uuid.uuid4()
        audio_path = f"audio/{job_id}.{info.extension}"
        try:
            self.media.put(audio_path, recording)
        except MediaFull as error:
            raise RequestError(grpc.StatusCode.RESOURCE_EXHAUSTED, f"cannot store the recording: {error}") from error
        except MediaError as error:
            raise RequestError(grpc.StatusCode.UNAVAILABLE, f"cannot store the recording: {error}") from error
        new = NewJob(
            request_id=request_id,
            filename=Path(metadata.filename).name[:255],
            content_type=info.content_type,
            audio_path=audio_path,
            audio_size=len(recording),
            audio_duration=info.duration,
            width=width,
            dither=dither,
        )
        try:
            return self.store.create(new, job_id)
        except DuplicateRequest:
            # A concurrent retry with the same request id won the race: answer with its job.
            self.media.delete(audio_path)
            return self.store.by_request_id(request_id)
        except BaseException:
            self.media.delete(audio_path)
            raise

    def _print_options(self, options: pb.PrintOptions) -> tuple[int, str]:
        try:
            width = rasterizer.check_width(options.width or self.settings.default_width)
        except ValueError as error:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, f"printer {error}") from error
        if options.dither == pb.DITHER_UNSPECIFIED:
            return width, self.settings.default_dither
        if options.dither not in DITHERS_FROM_PROTO:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, f"unknown dither algorithm {options.dither}")
        return width, DITHERS_FROM_PROTO[options.dither]

    # -- Watch ----------------------------------------------------------------------------------

    @_streaming
    async def Watch(self, request: pb.WatchRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.JobEvent]:
        job_id = _checked_job_id(request.job_id)
        # Subscribe before reading the snapshot so no change can fall between the two.
        with self.events.subscribe(str(job_id)) as changes:
            snapshot = job_to_proto(await self._existing_job(job_id))
            yield pb.JobEvent(job=snapshot, snapshot=True)
            last = snapshot
            while last.state not in (pb.JOB_STATE_COMPLETED, pb.JOB_STATE_FAILED):
                try:
                    change = await asyncio.wait_for(changes.get(), WATCH_RECHECK_SECONDS)
                except TimeoutError:
                    # A safety net under the event bus: a notice lost with a dropped connection
                    # delays an event by at most this long instead of hanging the stream.
                    change = job_to_proto(await self._existing_job(job_id))
                if change.version > last.version:
                    yield pb.JobEvent(job=change)
                    last = change

    # -- Fetch ----------------------------------------------------------------------------------

    @_unary
    async def Fetch(self, request: pb.FetchRequest, context: grpc.aio.ServicerContext) -> pb.FetchResponse:
        job_id = _checked_job_id(request.job_id)
        if request.format not in (pb.FORMAT_PNG, pb.FORMAT_RAW, pb.FORMAT_PREVIEW):
            raise RequestError(
                grpc.StatusCode.INVALID_ARGUMENT, "format is required: FORMAT_PNG, FORMAT_RAW or FORMAT_PREVIEW"
            )
        return await self._blocking(self._fetch, job_id, request.format)

    def _fetch(self, job_id: uuid.UUID, format: int) -> pb.FetchResponse:
        job = self._existing_job_sync(job_id)
        _require_result(job, needs_raster=format != pb.FORMAT_PNG)
        if format == pb.FORMAT_PNG:
            try:
                picture = self.media.get(job.image_path)
            except MediaMissing:
                raise RequestError(
                    grpc.StatusCode.DATA_LOSS, f"the picture of job {job_id} is missing from the media storage"
                ) from None
            except MediaError as error:
                raise RequestError(
                    grpc.StatusCode.UNAVAILABLE, f"cannot read the picture of job {job_id}: {error}"
                ) from error
            return pb.FetchResponse(
                data=picture, content_type="image/png", width=job.image_width, height=job.image_height
            )
        raster_bytes = self.store.raster_of(job_id)
        if raster_bytes is None:
            raise RequestError(grpc.StatusCode.DATA_LOSS, f"the raster of job {job_id} is missing from the database")
        raster = rasterizer.Raster(
            data=raster_bytes,
            width=job.raster_width,
            height=job.raster_height,
            bytes_per_row=job.raster_bytes_per_row,
        )
        if format == pb.FORMAT_RAW:
            return pb.FetchResponse(
                data=raster.data,
                content_type="application/octet-stream",
                width=raster.width,
                height=raster.height,
                bytes_per_row=raster.bytes_per_row,
            )
        return pb.FetchResponse(
            data=rasterizer.preview(raster), content_type="image/png", width=raster.width, height=raster.height
        )

    # -- GetJob / ListJobs ----------------------------------------------------------------------

    @_unary
    async def GetJob(self, request: pb.GetJobRequest, context: grpc.aio.ServicerContext) -> pb.Job:
        return job_to_proto(await self._existing_job(_checked_job_id(request.job_id)))

    @_unary
    async def ListJobs(self, request: pb.ListJobsRequest, context: grpc.aio.ServicerContext) -> pb.ListJobsResponse:
        size = request.page_size or DEFAULT_PAGE_SIZE
        if size > MAX_PAGE_SIZE:
            raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, f"page_size is at most {MAX_PAGE_SIZE}")
        state = None
        if request.state != pb.JOB_STATE_UNSPECIFIED:
            if request.state not in STATES_FROM_PROTO:
                raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, f"unknown job state {request.state}")
            state = STATES_FROM_PROTO[request.state]
        before = _decode_page_token(request.page_token) if request.page_token else None
        # One extra row tells whether another page exists.
        jobs = await self._blocking(self.store.page, limit=size + 1, before=before, state=state)
        token = _encode_page_token(jobs[size - 1]) if len(jobs) > size else ""
        return pb.ListJobsResponse(jobs=[job_to_proto(job) for job in jobs[:size]], next_page_token=token)

    # -- shared ---------------------------------------------------------------------------------

    async def _existing_job(self, job_id: uuid.UUID) -> Job:
        return await self._blocking(self._existing_job_sync, job_id)

    def _existing_job_sync(self, job_id: uuid.UUID) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise RequestError(grpc.StatusCode.NOT_FOUND, f"no job with id {job_id}")
        return job


def _require_result(job: Job, *, needs_raster: bool) -> None:
    """FAILED_PRECONDITION, with the reason, unless the job has the stored result asked for."""
    state = job.state_enum
    if state is State.FAILED:
        raise RequestError(grpc.StatusCode.FAILED_PRECONDITION, f"job failed, there is no image: {job.error}")
    missing = job.image_path is None or (needs_raster and not job.has_raster)
    if missing and state is State.COMPLETED:
        raise RequestError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"job completed without {'a raster' if job.image_path else 'an image'}: {job.error}",
        )
    if missing:
        raise RequestError(
            grpc.StatusCode.FAILED_PRECONDITION, f"not ready yet: the job is {state.value}; Watch it or try again later"
        )


def _checked_job_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise RequestError(
            grpc.StatusCode.INVALID_ARGUMENT, f"job_id must be a UUID as returned by Submit, not {raw[:64]!r}"
        ) from None


def _checked_request_id(raw: str) -> str | None:
    if not raw:
        return None
    if len(raw) > MAX_REQUEST_ID_LENGTH or not raw.isascii() or not raw.isprintable():
        raise RequestError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request_id must be at most {MAX_REQUEST_ID_LENGTH} printable ASCII characters",
        )
    return raw


def _encode_page_token(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode()


def _decode_page_token(token: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        created, job_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
        return dt.datetime.fromisoformat(created), uuid.UUID(job_id)
    except (ValueError, UnicodeDecodeError):
        raise RequestError(grpc.StatusCode.INVALID_ARGUMENT, "page_token is not one this server issued") from None
