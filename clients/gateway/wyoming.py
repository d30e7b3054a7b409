"""voxprint as a Wyoming service, for Home Assistant's voice satellites (`--wyoming-listen`).

Wyoming is the protocol Home Assistant speaks to voice services: JSON-line events over TCP, one
connection a request. The `wyoming` library does the framing and the events; this module is the
server and the per-connection handler. The `info` answer to `describe` advertises two programs:

* `handle` (a conversation agent): `transcript` → a job drawing the phrase → `handled` ("Printing
  a dragon") as soon as the job exists, or `not-handled` with the reason to speak;
* `asr` (speech-to-text): `transcribe`, `audio-start`, `audio-chunk`…, `audio-stop` → a job from
  the recording → `transcript` as soon as the job has one.

Both print at the satellite's printer (printer_map.py) when the picture is done. docs/home-assistant.md
has the set-up and the events exchanged.

Nothing a client sends is trusted with memory or time: headers, data and payloads have size
limits (wyoming_framing.py), a recording has the gateway's length limit and a share of one budget
for all (wyoming_audio.py), connections are limited in number and closed when idle or when they do
not read what they are sent. Whatever is refused gets an `error` event with a code and a sentence;
anything that leaves the stream or the conversation unusable also closes the connection.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_write_event
from wyoming.handle import Handled, NotHandled
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, HandleModel, HandleProgram, Info, SelectProgram
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncServer, HandlerFactory

from voxprint.clients.gateway.assembler import Address, Limits
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.printer_map import PrinterMapFile
from voxprint.clients.gateway.wyoming_audio import AudioBudget, WyomingRecording, audio_format
from voxprint.clients.gateway.wyoming_framing import FrameLimits, Refusal, read_event
from voxprint.clients.gateway.wyoming_jobs import JobSettings, Route, WyomingJobs
from voxprint.clients.gateway.wyoming_phrases import WakePhrase
from voxprint.common.backoff import Backoff

logger = logging.getLogger("voxprint.gateway.wyoming")

PROGRAM = "voxprint"
LANGUAGE = "en"
DEFAULT_PORT = 10300
# Context values voxprint reads, and echoes back, are short strings (ids), not documents.
MAX_ID_LENGTH = 256
# Counted by name; any other type is counted as "unknown" (the counter names stay few).
KNOWN_EVENTS = {
    "describe",
    "ping",
    "transcript",
    "transcribe",
    "audio-start",
    "audio-chunk",
    "audio-stop",
    "select-program",
}


@dataclass(frozen=True)
class WyomingConfig:
    listen: Address = ("0.0.0.0", DEFAULT_PORT)
    printer_map: PrinterMapFile | None = None
    wake: WakePhrase = field(default_factory=WakePhrase)
    max_connections: int = 16
    # A connection that sends no whole event for this long is closed (Home Assistant opens one a
    # request and streams audio as it hears it, so it is never this quiet).
    idle_timeout: float = 30.0
    # A client that does not read what it is sent for this long is closed.
    write_timeout: float = 10.0
    frames: FrameLimits = field(default_factory=FrameLimits)
    # PCM held by all recordings being received at once.
    max_buffered_bytes: int = 64 * 1024 * 1024
    # Refusals a connection may collect (unknown events...) before it is closed.
    max_refusals: int = 8
    max_jobs: int = 64
    transcript_timeout: float = 60.0
    repeat_window: float = 10.0
    # A listener is waiting: retry an unreachable server for seconds, not the UDP path's minutes.
    interactive_retry: Backoff = field(
        default_factory=lambda: Backoff(attempts=None, initial_delay=0.2, max_delay=2.0, jitter=0.2, give_up_after=8.0)
    )

    def job_settings(self, *, width: int | None, job_timeout: float) -> JobSettings:
        return JobSettings(
            wake=self.wake,
            width=width,
            interactive_retry=self.interactive_retry,
            transcript_timeout=self.transcript_timeout,
            job_timeout=job_timeout,
            repeat_window=self.repeat_window,
            max_jobs=self.max_jobs,
        )


def _version() -> str:
    try:
        return importlib.metadata.version("voxprint")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def service_info(wake: WakePhrase) -> Info:
    """The `info` event's programs: what Home Assistant lists when the service is added."""
    version = _version()
    attribution = Attribution(name="voxprint", url="")
    drawing = "Draws what is said and prints it" + (f" (phrases starting {wake.describe()})" if wake.phrases else "")
    return Info(
        asr=[
            AsrProgram(
                name=PROGRAM,
                attribution=attribution,
                installed=True,
                description="voxprint's speech-to-text; every recording is also printed",
                version=version,
                models=[
                    AsrModel(
                        name=PROGRAM,
                        attribution=attribution,
                        installed=True,
                        description="the voxprint server's transcriber",
                        version=version,
                        languages=[LANGUAGE],
                    )
                ],
            )
        ],
        handle=[
            HandleProgram(
                name=PROGRAM,
                attribution=attribution,
                installed=True,
                description=drawing,
                version=version,
                models=[
                    HandleModel(
                        name=PROGRAM,
                        attribution=attribution,
                        installed=True,
                        description=drawing,
                        version=version,
                        languages=[LANGUAGE],
                    )
                ],
            )
        ],
    )


def _short_text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else None


def _context(data: dict[str, Any]) -> dict[str, str]:
    """The ids of an event's context worth reading and echoing; anything else is dropped."""
    context = data.get("context")
    if not isinstance(context, dict):
        return {}
    return {
        key: value for key, value in context.items() if isinstance(key, str) and _short_text(value) and len(key) < 64
    }


def _route(context: dict[str, str]) -> Route:
    return Route(satellite_id=context.get("satellite_id"), device_id=context.get("device_id"))


class WyomingHandler(AsyncEventHandler):
    """One connection: reads events within the limits, answers each, refuses what it must."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, front: WyomingFront) -> None:
        super().__init__(reader, writer)
        self._front = front
        self._config = front.config
        self._counters = front.counters
        self._peer = writer.get_extra_info("peername")
        self._refusals = 0
        self._transcribe: dict[str, str] = {}
        self._recording: WyomingRecording | None = None

    async def run(self) -> None:
        """The library's loop, with the idle limit, the guarded reader and refusals answered."""
        self._counters.incr("wyoming.connections.accepted")
        try:
            while True:
                try:
                    event = await asyncio.wait_for(
                        read_event(self.reader, self._config.frames), self._config.idle_timeout
                    )
                except asyncio.TimeoutError:
                    raise Refusal("idle", f"no event for {self._config.idle_timeout:g} s") from None
                if event is None:
                    break
                try:
                    if not await self.handle_event(event):
                        break
                except Refusal as refusal:
                    self._refusals += 1
                    if refusal.close or self._refusals >= self._config.max_refusals:
                        raise
                    await self._refuse(refusal)
        except Refusal as refusal:
            await self._refuse(refusal)
        except (ConnectionError, asyncio.TimeoutError) as error:
            # Gone, or not reading what it is sent: nobody to answer.
            self._counters.incr("wyoming.connections.lost")
            logger.info("wyoming client %s: %s", self._peer, type(error).__name__)
        except Exception:
            # A bug met by one connection ends that connection only, logged with its client.
            self._counters.incr("wyoming.connections.crashed")
            logger.exception("wyoming client %s could not be served", self._peer)
        finally:
            self._drop_recording()
            self.writer.close()
            self._counters.incr("wyoming.connections.closed")

    async def write_event(self, event: Event) -> None:
        await asyncio.wait_for(async_write_event(event, self.writer), self._config.write_timeout)

    async def handle_event(self, event: Event) -> bool:
        kind = event.type
        self._counters.incr(f"wyoming.events.{kind if kind in KNOWN_EVENTS else 'unknown'}")
        if Describe.is_type(kind):
            await self.write_event(self._front.info.event())
        elif Ping.is_type(kind):
            await self.write_event(Pong(text=_short_text(event.data.get("text"))).event())
        elif Transcript.is_type(kind):
            await self._handle(event.data)
        elif Transcribe.is_type(kind):
            self._drop_recording()
            self._transcribe = _context(event.data)
        elif AudioStart.is_type(kind):
            self._drop_recording()
            self._recording = WyomingRecording(audio_format(event.data), self._front.limits, self._front.budget)
        elif AudioChunk.is_type(kind):
            if self._recording is None:
                raise Refusal("bad-audio", "audio-chunk before audio-start")
            self._recording.add(event.data, event.payload or b"")
        elif AudioStop.is_type(kind):
            await self._transcribe_recording()
        elif SelectProgram.is_type(kind):
            if event.data.get("name") != PROGRAM:
                raise Refusal("unknown-program", f"the programs here are named {PROGRAM!r}", close=False)
        else:
            raise Refusal("unknown-event", f"voxprint does not serve {kind[:64]!r} events", close=False)
        return True

    async def _handle(self, data: dict[str, Any]) -> None:
        text = data.get("text")
        if not isinstance(text, str):
            raise Refusal("bad-event", "a transcript needs its text")
        context = _context(data)
        answer = await self._front.jobs.draw(text, _route(context), context.get("conversation_id"))
        reply = Handled if answer.handled else NotHandled
        await self.write_event(reply(text=answer.text, context=context or None).event())

    async def _transcribe_recording(self) -> None:
        if self._recording is None:
            raise Refusal("bad-audio", "audio-stop before audio-start")
        logger.info("wyoming client %s: %.2f s of audio", self._peer, self._recording.seconds)
        try:
            text = await self._front.jobs.transcribe(self._recording.wav(), _route(self._transcribe))
        finally:
            self._drop_recording()
        context = self._transcribe
        await self.write_event(Transcript(text=text, language=LANGUAGE, context=context or None).event())

    def _drop_recording(self) -> None:
        if self._recording is not None:
            self._recording.release()
            self._recording = None

    async def _refuse(self, refusal: Refusal) -> None:
        self._counters.incr(f"wyoming.refused.{refusal.code}")
        logger.info("wyoming client %s refused (%s): %s", self._peer, refusal.code, refusal.text)
        try:
            await self.write_event(Error(text=refusal.text, code=refusal.code).event())
        except (ConnectionError, asyncio.TimeoutError):
            pass  # the client is gone or not reading; the refusal is logged and counted all the same


class _Server(AsyncServer):
    """The library's TCP server with a limit on connections and the header limit on each stream."""

    def __init__(self, listen: Address, config: WyomingConfig, counters: Counters) -> None:
        super().__init__()
        self._listen = listen
        self._config = config
        self._counters = counters
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> Address:
        assert self._server is not None, "not started"
        return self._server.sockets[0].getsockname()[:2]

    async def start(self, handler_factory: HandlerFactory) -> None:
        self._server = await asyncio.start_server(
            partial(self._handler_callback, handler_factory),
            host=self._listen[0],
            port=self._listen[1],
            # Bounds what one header line may make the stream buffer.
            limit=self._config.frames.header_bytes,
        )

    async def run(self, handler_factory: HandlerFactory) -> None:
        await self.start(handler_factory)
        assert self._server is not None
        await self._server.serve_forever()

    async def _handler_callback(
        self, handler_factory: HandlerFactory, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if len(self._handlers) >= self._config.max_connections:
            self._counters.incr("wyoming.connections.refused")
            logger.info(
                "wyoming client %s refused: %d connections open", writer.get_extra_info("peername"), len(self._handlers)
            )
            error = Error(text=f"voxprint serves {self._config.max_connections} connections at once", code="busy")
            try:
                await asyncio.wait_for(async_write_event(error.event(), writer), self._config.write_timeout)
            except (ConnectionError, asyncio.TimeoutError):
                pass
            writer.close()
            return
        await super()._handler_callback(handler_factory, reader, writer)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._handlers)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class WyomingFront:
    """The gateway's Wyoming service: a server whose handlers share the jobs, limits and budget."""

    def __init__(self, config: WyomingConfig, jobs: WyomingJobs, limits: Limits, counters: Counters) -> None:
        self.config = config
        self.jobs = jobs
        self.limits = limits
        self.counters = counters
        self.budget = AudioBudget(config.max_buffered_bytes)
        self.info = service_info(config.wake)
        self._server = _Server(config.listen, config, counters)

    @property
    def address(self) -> Address:
        return self._server.address

    async def start(self) -> None:
        await self._server.start(lambda reader, writer: WyomingHandler(reader, writer, self))

    async def close(self) -> None:
        await self._server.stop()
        await self.jobs.close()
