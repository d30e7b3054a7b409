"""The gRPC servicer: protobuf in, domain calls (``server.jobs``), protobuf and status codes out.

The service is registered with handlers that take the request bytes as they came: grpc's own
deserialization answers UNKNOWN to a message it cannot parse, so the parsing happens here, where an
undecodable request is INVALID_ARGUMENT like any other bad input. One boundary,
``_status_codes``, turns every exception into a status: the domain's errors into their codes with
their messages; anything unexpected into INTERNAL, logged here with the job id and never shown.

Handlers run on the asyncio loop. The domain blocks (file and database writes, decoding the upload),
so it runs on the service's own thread pool, and thousands of idle Watch streams cost nothing but
memory. The pool is larger than asyncio's default because most of its time is spent waiting for
fsync, not computing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError, Message

from voxprint.common.enums import FETCH_FORMATS, TERMINAL_STATES
from voxprint.server.auth import Tenants
from voxprint.server.capacity import CapacityReached, SharedCapacity
from voxprint.server.events import JobEvents
from voxprint.server.jobs import (
    Busy,
    DataLost,
    InvalidRequest,
    JobError,
    Jobs,
    NotFound,
    NotReady,
    StorageFull,
    StorageUnavailable,
    Submission,
    TooLarge,
    checked_job_id,
)
from voxprint.server.logs import job_fields
from voxprint.server.messages import DITHERS_FROM_PROTO, STATES_FROM_PROTO, job_to_proto
from voxprint.server.metrics import Metrics
from voxprint.server.store import Job
from voxprint.v1 import voxprint_pb2 as pb

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Voxprint"].full_name
IO_THREADS = 32
# Live Watch streams at once, all clients together (each costs ~25 KB: 1000 watchers cost 24 MB).
MAX_WATCH_STREAMS = 10_000
# A Watch stream that hears nothing for this long re-reads its job.
WATCH_RECHECK_SECONDS = 15.0

STATUS_OF_ERROR: dict[type[JobError], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    NotReady: grpc.StatusCode.FAILED_PRECONDITION,
    TooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    StorageFull: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Busy: grpc.StatusCode.UNAVAILABLE,
    StorageUnavailable: grpc.StatusCode.UNAVAILABLE,
    DataLost: grpc.StatusCode.DATA_LOSS,
}

T = TypeVar("T")
V = TypeVar("V")
# A proto enum's number type (each enum has its own int NewType in the generated stubs).
E = TypeVar("E", bound=int)
M = TypeVar("M", bound=Message)
# Who is calling: the tenant of the call's token (ending the call UNAUTHENTICATED when it has none).
Caller = Callable[[grpc.aio.ServicerContext], Awaitable[str]]


class VoxprintService:
    def __init__(
        self, jobs: Jobs, events: JobEvents, tenants: Tenants, metrics: Metrics, on_submitted: Callable[[], None]
    ) -> None:
        self.jobs = jobs
        self.events = events
        self.tenants = tenants
        self.metrics = metrics
        self.on_submitted = on_submitted
        self._threads = ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="voxprint-io")
        self._uploads = _UploadsInFlight()
        self._watch_streams = SharedCapacity(MAX_WATCH_STREAMS, tenants.count)

    def handlers(self) -> grpc.GenericRpcHandler:
        """The ``voxprint.v1.Voxprint`` methods, each taking its request as raw bytes."""
        return grpc.method_handlers_generic_handler(
            SERVICE_NAME,
            {
                "Submit": _stream_unary(self.Submit, pb.SubmitRequest, self._caller),
                "Draw": _unary_unary(self.Draw, pb.DrawRequest, self._caller),
                "Watch": _unary_stream(self.Watch, pb.WatchRequest, self._caller),
                "Fetch": _unary_unary(self.Fetch, pb.FetchRequest, self._caller),
                "GetJob": _unary_unary(self.GetJob, pb.GetJobRequest, self._caller),
                "ListJobs": _unary_unary(self.ListJobs, pb.ListJobsRequest, self._caller),
            },
        )

    async def _blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    async def _caller(self, context: grpc.aio.ServicerContext) -> str:
        """The tenant whose token the call carries, looked up once a call and before any of its request
        is read; a call without one ends UNAUTHENTICATED."""
        tenant = self.tenants.tenant_of(context.invocation_metadata())
        if tenant is None:
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "missing or wrong token: send 'authorization: Bearer <token>' metadata"
            )
        return tenant

    def close(self) -> None:
        self._threads.shutdown(wait=True)

    # -- Submit ---------------------------------------------------------------------------------

    async def Submit(self, requests: AsyncIterator[pb.SubmitRequest], tenant: str) -> pb.Job:
        first = await anext(requests, None)
        if first is None or first.WhichOneof("payload") != "metadata":
            raise InvalidRequest("the first Submit message must carry metadata")
        metadata = first.metadata
        submission = self._submission(tenant, metadata.filename, metadata.request_id, metadata.options)
        async with self._uploads.only_one(submission):
            if previous := await self._blocking(self.jobs.previous, submission):
                return job_to_proto(previous)
            with self.jobs.upload(tenant) as upload:
                async for request in requests:
                    if request.WhichOneof("payload") != "audio_chunk":
                        raise InvalidRequest("only the first Submit message may carry metadata")
                    upload.add(request.audio_chunk)
                job = await self._create_or_take_back(submission, upload.recording())
        self.on_submitted()
        self.metrics.upload_received(job.audio_size)
        log.info(
            "job %s submitted (%s, %.1f s of audio)",
            job.id,
            job.content_type,
            job.audio_duration,
            extra=job_fields(job.id),
        )
        return job_to_proto(job)

    def _submission(self, tenant: str, filename: str, request_id: str, options: pb.PrintOptions) -> Submission:
        return self.jobs.submission(
            tenant,
            filename=filename,
            request_id=request_id,
            width=options.width,
            dither=_from_enum(DITHERS_FROM_PROTO, options.dither, "dither algorithm"),
        )

    async def _create_or_take_back(self, submission: Submission, recording: bytes) -> Job:
        """Create the job; if the client cancels meanwhile, take the job back once it is made.

        grpc ends a request stream the same way whether the client half-closed it (the upload is
        complete) or cancelled the call, and cancels this handler a moment later. Creating takes
        longer than that moment (it waits for fsync), so the cancellation lands here, and whoever
        cancelled never gets a job: none remains, and the request id is free for the retry.
        """
        job_id = uuid.uuid4()
        creating = asyncio.get_running_loop().run_in_executor(
            self._threads, self.jobs.create, submission, recording, job_id
        )
        try:
            return await asyncio.shield(creating)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                made = await creating
                # Only the job this upload made: a concurrent upload with the same request id may
                # have won, and its job belongs to the client that got it.
                if made.id == job_id:
                    await self._blocking(self.jobs.discard, made)
            raise

    # -- Draw -----------------------------------------------------------------------------------

    async def Draw(self, request: pb.DrawRequest, tenant: str) -> pb.Job:
        submission = self._submission(tenant, "", request.request_id, request.options)
        job = await self._blocking(self.jobs.draw, submission, request.phrase)
        self.on_submitted()
        log.info(
            "job %s drawn from a phrase of %d characters", job.id, len(job.transcript or ""), extra=job_fields(job.id)
        )
        return job_to_proto(job)

    # -- Watch ----------------------------------------------------------------------------------

    async def Watch(self, request: pb.WatchRequest, tenant: str) -> AsyncIterator[pb.JobEvent]:
        job_id = str(checked_job_id(request.job_id))
        try:
            self._watch_streams.take(tenant, 1)
        except CapacityReached as reached:
            raise Busy(
                f"the server is serving {reached.which} of {reached.limit} Watch streams; try again shortly"
            ) from None
        try:
            with self.metrics.watch_stream():
                async for event in self._events_of(tenant, job_id):
                    yield event
        finally:
            self._watch_streams.give_back(tenant, 1)

    async def _events_of(self, tenant: str, job_id: str) -> AsyncIterator[pb.JobEvent]:
        # Subscribe before reading the snapshot so no change can fall between the two.
        with self.events.subscribe(job_id) as changes:
            snapshot = job_to_proto(await self._blocking(self.jobs.get, tenant, job_id))
            yield pb.JobEvent(job=snapshot, snapshot=True)
            last = snapshot
            while last.state not in TERMINAL_STATES:
                try:
                    change = await asyncio.wait_for(changes.get(), WATCH_RECHECK_SECONDS)
                except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
                    # A safety net under the event bus: a notice lost with a dropped connection
                    # delays an event by at most this long instead of hanging the stream.
                    change = job_to_proto(await self._blocking(self.jobs.get, tenant, job_id))
                if change.version > last.version:
                    yield pb.JobEvent(job=change)
                    last = change

    # -- Fetch, GetJob, ListJobs ----------------------------------------------------------------

    async def Fetch(self, request: pb.FetchRequest, tenant: str) -> pb.FetchResponse:
        if request.format not in FETCH_FORMATS:
            raise InvalidRequest(f"format is one of {', '.join(map(pb.Format.Name, FETCH_FORMATS))}")
        result = await self._blocking(self.jobs.fetch, tenant, request.job_id, request.format)
        return pb.FetchResponse(
            data=result.data,
            content_type=result.content_type,
            width=result.width,
            height=result.height,
            bytes_per_row=result.bytes_per_row,
        )

    async def GetJob(self, request: pb.GetJobRequest, tenant: str) -> pb.Job:
        return job_to_proto(await self._blocking(self.jobs.get, tenant, request.job_id))

    async def ListJobs(self, request: pb.ListJobsRequest, tenant: str) -> pb.ListJobsResponse:
        state = _from_enum(STATES_FROM_PROTO, request.state, "job state")
        page = await self._blocking(
            self.jobs.page, tenant, size=request.page_size, token=request.page_token, state=state
        )
        return pb.ListJobsResponse(jobs=[job_to_proto(job) for job in page.jobs], next_page_token=page.next_token)


class _UploadsInFlight:
    """One upload at a time per (tenant, request id) on this server.

    A retry waits for the upload it repeats to end: it then finds that upload's job if the upload
    completed, or nothing if it was cancelled or refused — never a job about to be taken back.
    """

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], asyncio.Event] = {}

    @contextlib.asynccontextmanager
    async def only_one(self, submission: Submission) -> AsyncIterator[None]:
        if submission.request_id is None:
            yield
            return
        key = (submission.tenant, submission.request_id)
        while (running := self._running.get(key)) is not None:
            await running.wait()
        self._running[key] = ended = asyncio.Event()
        try:
            yield
        finally:
            del self._running[key]
            ended.set()


def _from_enum(values: Mapping[E, V], number: E, what: str) -> V | None:
    """The domain value of a proto enum number; None for 0 (unspecified); InvalidRequest if unknown."""
    if number == 0:
        return None
    if number not in values:
        raise InvalidRequest(f"unknown {what} {number}")
    return values[number]


# -- the boundary: request bytes in, status codes out -------------------------------------------


def _parsed(message_type: type[M], raw: bytes) -> M:
    try:
        return message_type.FromString(raw)
    except DecodeError:
        raise InvalidRequest(f"the request is not a valid {message_type.DESCRIPTOR.full_name} message") from None


@contextlib.asynccontextmanager
async def _status_codes(
    context: grpc.aio.ServicerContext, method: str, request: Callable[[], Message | None] = lambda: None
) -> AsyncIterator[None]:
    """Ends the call with the status an exception stands for; ``request`` names the job in the log."""
    try:
        yield
    except JobError as error:
        # By the nearest class that has a code, so a new kind of JobError answers as its parent does.
        code = next(
            (STATUS_OF_ERROR[kind] for kind in type(error).__mro__ if kind in STATUS_OF_ERROR), grpc.StatusCode.INTERNAL
        )
        await context.abort(code, str(error))
    except grpc.aio.AbortError:
        raise
    except Exception:
        job_id = getattr(request(), "job_id", "")
        log.exception("%s failed unexpectedly%s", method, f" (job {job_id})" if job_id else "")
        await context.abort(grpc.StatusCode.INTERNAL, f"{method} failed inside the server; the server's log says why")


def _unary_unary(
    handler: Callable[[M, str], Awaitable[Message]], request_type: type[M], caller: Caller
) -> grpc.RpcMethodHandler:
    async def answer(raw: bytes, context: grpc.aio.ServicerContext) -> bytes:
        tenant = await caller(context)
        request = None
        async with _status_codes(context, handler.__name__, lambda: request):
            request = _parsed(request_type, raw)
            return (await handler(request, tenant)).SerializeToString()

    return grpc.unary_unary_rpc_method_handler(answer)


def _unary_stream(
    handler: Callable[[M, str], AsyncIterator[Message]], request_type: type[M], caller: Caller
) -> grpc.RpcMethodHandler:
    async def answer(raw: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        tenant = await caller(context)
        request = None
        async with _status_codes(context, handler.__name__, lambda: request):
            request = _parsed(request_type, raw)
            async for message in handler(request, tenant):
                yield message.SerializeToString()

    return grpc.unary_stream_rpc_method_handler(answer)


def _stream_unary(
    handler: Callable[[AsyncIterator[M], str], Awaitable[Message]], request_type: type[M], caller: Caller
) -> grpc.RpcMethodHandler:
    async def answer(raws: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
        tenant = await caller(context)
        async with _status_codes(context, handler.__name__):
            return (await handler(_each_parsed(request_type, raws), tenant)).SerializeToString()

    return grpc.stream_unary_rpc_method_handler(answer)


async def _each_parsed(message_type: type[M], raws: AsyncIterator[bytes]) -> AsyncIterator[M]:
    async for raw in raws:
        yield _parsed(message_type, raw)
