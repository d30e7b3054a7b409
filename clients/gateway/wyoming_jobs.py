"""From Wyoming requests to voxprint jobs and printouts.

`draw` serves the `handle` program: a phrase Home Assistant heard becomes a text job (Draw), and the
answer is ready as soon as the job exists. `transcribe` serves `asr`: a recording becomes a job
(Submit) and its transcript is returned the moment the job has one, while the picture is still
being made. Either way the job is then followed in the background to its end and its raster sent to
the satellite's printers (the printer map), through the gateway's own deliveries.

Request ids make every call idempotent. A recording's id is derived from its bytes (a client
sending the same audio again gets the same job); a phrase's is new for each request, and a phrase
repeated in the same conversation within the repeat window reuses it. A job is followed — and so
printed — once, however many requests lead to it within that window (wyoming_recent.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from voxprint.clients import AsyncVoxprintClient, InvalidArgument, VoxprintError, has_picture
from voxprint.clients.gateway.assembler import SessionKey
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.delivery import Delivery, Recipient
from voxprint.clients.gateway.printer_map import PrinterMap
from voxprint.clients.gateway.request_ids import RequestIds
from voxprint.clients.gateway.wyoming_framing import Refusal
from voxprint.clients.gateway.wyoming_phrases import (
    BUSY,
    NOTHING_TO_DRAW,
    UNREACHABLE,
    WakePhrase,
    normalised,
    not_a_drawing,
    printing,
)
from voxprint.clients.gateway.wyoming_recent import Recent
from voxprint.common.backoff import Backoff
from voxprint.v1 import voxprint_pb2

logger = logging.getLogger("voxprint.gateway.wyoming")

T = TypeVar("T")
# Request ids name what they were made from: a recording's bytes or one request to draw.
RECORDING = "wyoming:asr"
PHRASE = "wyoming:handle"
# Recent phrases and jobs kept at most (each a few hundred bytes).
MEMORY_CAPACITY = 1024


class Retrying(Protocol):
    """The gateway's retry loop for calls to the server (counted, logged); `backoff` None = its own."""

    def __call__(self, what: str, call: Callable[[], Awaitable[T]], backoff: Backoff | None = None) -> Awaitable[T]: ...


#: The gateway's delivery of a raster to printers (one failing does not stop the others).
Deliver = Callable[[list[Delivery], Recipient | None, voxprint_pb2.Job, voxprint_pb2.FetchResponse], Awaitable[None]]


@dataclass
class Route:
    """Who asked, so whose printer the picture goes to. Shared and filled in late: `handle` may
    name the satellite of a job `asr` started, as long as the job has not printed yet."""

    satellite_id: str | None = None
    device_id: str | None = None

    def learn(self, other: Route) -> None:
        self.satellite_id = self.satellite_id or other.satellite_id
        self.device_id = self.device_id or other.device_id


@dataclass(frozen=True)
class Answer:
    """What `handle` replies: `handled` with a sentence to speak, or not, with the reason to speak."""

    handled: bool
    text: str


@dataclass(frozen=True)
class JobSettings:
    wake: WakePhrase
    # Printer width in dots; None = the server's default.
    width: int | None
    # How long the calls a listener waits on are retried while the server is unreachable.
    interactive_retry: Backoff
    # How long `asr` waits for a job's transcript.
    transcript_timeout: float
    # How long a job is followed to its end.
    job_timeout: float
    # How long a phrase counts as the same request (see the module's description).
    repeat_window: float
    max_jobs: int


# A transcript, or why there will be none: what a follower tells whoever waits on `asr`.
Heard = str | VoxprintError


class WyomingJobs:
    def __init__(
        self,
        client: AsyncVoxprintClient,
        printers: PrinterMap,
        request_ids: RequestIds,
        deliver: Deliver,
        retrying: Retrying,
        counters: Counters,
        settings: JobSettings,
    ) -> None:
        self._client = client
        self._printers = printers
        self._request_ids = request_ids
        self._deliver = deliver
        self._retrying = retrying
        self._counters = counters
        self._settings = settings
        clock = asyncio.get_running_loop().time
        # Transcripts `asr` returned → the route of the job printing them (for `handle`).
        self._heard: Recent[str, Route] = Recent(settings.repeat_window, MEMORY_CAPACITY, clock)
        # (conversation, phrase) → the request id it was drawn under.
        self._drawn: Recent[tuple[str, str], str] = Recent(settings.repeat_window, MEMORY_CAPACITY, clock)
        # Job id → its transcript, once known: a job followed is not followed (nor printed) again.
        self._followed: Recent[str, asyncio.Future[Heard]] = Recent(settings.repeat_window, MEMORY_CAPACITY, clock)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return len(self._tasks) >= self._settings.max_jobs

    async def draw(self, text: str, route: Route, conversation_id: str | None) -> Answer:
        """`handle`: draw `text` (without its wake phrase) at `route`'s printer."""
        subject = self._settings.wake.subject(text)
        if subject is None:
            return self._not_handled("wake_phrase", not_a_drawing(self._settings.wake))
        if not subject:
            return self._not_handled("empty", NOTHING_TO_DRAW)
        heard = self._heard.take(normalised(text))
        if heard is not None:
            # `asr` has just turned this very utterance into a job: that job is the picture.
            heard.learn(route)
            self._counters.incr("wyoming.handled.heard_by_asr")
            return Answer(True, printing(subject))
        key = (conversation_id, normalised(subject)) if conversation_id else None
        # Asked again: the same request id makes the server answer with the job it made.
        request_id = self._drawn.get(key) if key else None
        repeated = request_id is not None
        if request_id is None:
            if self.busy:
                return self._not_handled("busy", BUSY)
            request_id = self._request_ids.for_session(SessionKey(PHRASE, secrets.randbits(64)))
            if key:
                self._drawn.add(key, request_id)
        try:
            job = await self._retrying(
                "draw",
                lambda: self._client.draw(subject, request_id=request_id, width=self._settings.width),
                self._settings.interactive_retry,
            )
        except InvalidArgument as error:
            return self._not_handled("invalid", f"I cannot draw that: {error.message}")
        except VoxprintError as error:
            logger.warning("drawing %r: %s", subject, error)
            return self._not_handled("unreachable", UNREACHABLE)
        self._counters.incr("wyoming.handled.repeated" if repeated else "wyoming.handled.drawn")
        logger.info("phrase %r is job %s", subject, job.id)
        self._follow(job, route, recorded=False)
        return Answer(True, printing(subject))

    async def transcribe(self, wav: bytes, route: Route) -> str:
        """`asr`: the recording's transcript ("" when it holds no speech); it prints at `route`'s printer."""
        if self.busy:
            raise Refusal("busy", "the gateway has as many jobs in flight as it may; try again shortly")
        digest = int.from_bytes(hashlib.sha256(wav).digest()[:8], "big")
        request_id = self._request_ids.for_session(SessionKey(RECORDING, digest))
        try:
            job = await self._retrying(
                "submit",
                lambda: self._client.submit(
                    wav, request_id=request_id, filename="wyoming.wav", width=self._settings.width
                ),
                self._settings.interactive_retry,
            )
        except VoxprintError as error:
            raise Refusal("server", f"voxprint did not take the recording: {error.message}") from None
        logger.info("recording of %d bytes is job %s", len(wav), job.id)
        heard = self._follow(job, route, recorded=True)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(heard), self._settings.transcript_timeout)
        except asyncio.TimeoutError:
            raise Refusal(
                "timeout", f"job {job.id} had no transcript within {self._settings.transcript_timeout:g} s"
            ) from None
        if isinstance(outcome, VoxprintError):
            raise Refusal("server", f"job {job.id} could not be followed: {outcome.message}")
        self._counters.incr("wyoming.transcripts")
        return outcome

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _not_handled(self, reason: str, text: str) -> Answer:
        self._counters.incr(f"wyoming.not_handled.{reason}")
        return Answer(False, text)

    def _follow(self, job: voxprint_pb2.Job, route: Route, *, recorded: bool) -> asyncio.Future[Heard]:
        """Follow `job` to its end in the background and print it, unless it is already followed;
        the future is its transcript."""
        heard = self._followed.get(job.id)
        if heard is not None:
            self._counters.incr("wyoming.jobs.followed_already")
            return heard
        heard = asyncio.get_running_loop().create_future()
        self._followed.add(job.id, heard)
        task = asyncio.create_task(self._run(job, route, heard, recorded))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return heard

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._counters.incr("wyoming.jobs.crashed")
            logger.error("following a job crashed", exc_info=task.exception())

    async def _run(self, job: voxprint_pb2.Job, route: Route, heard: asyncio.Future[Heard], recorded: bool) -> None:
        try:
            async for event in self._client.watch(job.id, timeout=self._settings.job_timeout):
                job = event.job
                if not heard.done() and (job.transcript or job.state == voxprint_pb2.JOB_STATE_FAILED):
                    if recorded and job.transcript:
                        # Remembered before anyone hears it, so the `handle` request it leads to finds it.
                        self._heard.add(normalised(job.transcript), route)
                    heard.set_result(job.transcript)
        except VoxprintError as error:
            self._counters.incr("wyoming.jobs.failed")
            logger.warning("job %s: %s", job.id, error)
            if not heard.done():
                heard.set_result(error)
            return
        finally:
            if not heard.done():
                heard.cancel()
        if job.error:
            self._counters.incr("wyoming.jobs.failed")
            logger.warning("job %s: %s", job.id, job.error)
        if not has_picture(job):
            self._counters.incr("wyoming.prints.skipped.no_picture")
        elif recorded and self._settings.wake.subject(job.transcript) is None:
            # Heard, stored, not meant for paper: the pipeline is shared with home control.
            self._counters.incr("wyoming.prints.skipped.wake_phrase")
        else:
            await self._print(job, route)

    async def _print(self, job: voxprint_pb2.Job, route: Route) -> None:
        entry, deliveries = self._printers.deliveries_for(route.satellite_id, route.device_id)
        if not deliveries:
            self._counters.incr("wyoming.prints.skipped.no_printer")
            logger.warning("job %s: no printer for %s in the printer map, nor a default", job.id, entry)
            return
        try:
            raster = await self._retrying("fetch", lambda: self._client.fetch(job.id, "raw"))
        except VoxprintError as error:
            self._counters.incr("wyoming.jobs.failed")
            logger.warning("job %s: %s", job.id, error)
            return
        await self._deliver(deliveries, None, job, raster)
        self._counters.incr("wyoming.printed")
        logger.info("job %s printed at %s (%s)", job.id, ", ".join(d.name for d in deliveries), entry)
