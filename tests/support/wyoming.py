"""Shared pieces for the Wyoming tests: a gateway serving Wyoming on loopback in front of a real
server, Home Assistant's own request sequences replayed with the `wyoming` library's client, an
illustrator that waits for the test, and a spool directory to read printouts from.

The sequences are those of Home Assistant's `homeassistant/components/wyoming` integration:

* `data.py` (`load_wyoming_info`): connect, `describe`, read until `info`, within 1 s;
* `stt.py` (`WyomingSttProvider.async_process_audio_stream`): `transcribe` (language), `audio-start`
  (16 kHz, 16-bit, mono), an `audio-chunk` for each piece of the stream, `audio-stop`, then read
  until a `transcript` (no `transcript` before the connection closes = an error);
* `conversation.py` (`WyomingConversationEntity.async_process`): `transcript` with the text and
  `context={"conversation_id": ...}`, then read until `handled` or `not-handled` (or `intent` /
  `not-recognized`, which voxprint never sends).
"""

from __future__ import annotations

import asyncio
import io
import threading
import wave
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event, async_read_event, write_event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info

from tests.support.backends import ScriptedIllustrator
from tests.support.gateway import running_gateway
from tests.support.servers import RunningServer
from voxprint.clients import escpos
from voxprint.clients.gateway.assembler import Address, Limits
from voxprint.clients.gateway.main import Gateway
from voxprint.clients.gateway.wyoming import WyomingConfig
from voxprint.common.backoff import Backoff
from voxprint.v1 import voxprint_pb2

# What Home Assistant streams to a speech-to-text (homeassistant/components/wyoming/const.py).
HA_RATE, HA_WIDTH, HA_CHANNELS = 16_000, 2, 1
# Its assist pipeline processes audio 10 ms at a time (assist_pipeline's BYTES_PER_CHUNK).
HA_CHUNK_BYTES = 320
# homeassistant/components/wyoming/data.py: _INFO_TIMEOUT.
HA_INFO_TIMEOUT = 1.0
REPLY_TIMEOUT = 120.0

# Loopback-sized: an unreachable server is given up in a second, not eight.
TEST_WYOMING = WyomingConfig(
    listen=("127.0.0.1", 0),
    interactive_retry=Backoff(attempts=None, initial_delay=0.05, max_delay=0.2, jitter=0.0, give_up_after=1.0),
)


@asynccontextmanager
async def wyoming_gateway(
    server_target: str, *, deliver: tuple[str, ...] = (), limits: Limits | None = None, **wyoming: Any
) -> AsyncIterator[Gateway]:
    """A gateway serving only Wyoming on 127.0.0.1 (random port) in front of `server_target`,
    printing at `deliver`, with the recording `limits` given (else the tests' own); `wyoming`
    overrides fields of its WyomingConfig."""
    config = replace(TEST_WYOMING, **wyoming)
    overrides = {"limits": limits} if limits else {}
    async with running_gateway(server_target, listen=None, deliver=deliver, wyoming=config, **overrides) as gateway:
        yield gateway


def wyoming_address(gateway: Gateway) -> Address:
    address = gateway.wyoming_address
    assert address is not None
    return address


async def read_until(client: AsyncTcpClient, wanted: Callable[[str], bool], timeout: float) -> Event | None:
    """The first event of a type `wanted` (others skipped, as Home Assistant skips them), or None
    when the connection closes first."""

    async def read() -> Event | None:
        while True:
            event = await client.read_event()
            if event is None or wanted(event.type):
                return event

    return await asyncio.wait_for(read(), timeout)


async def ha_describe(address: Address) -> Info:
    """data.py's `load_wyoming_info`, one try: `describe` → `info` within its 1-second timeout."""
    async with AsyncTcpClient(*address) as client:

        async def describe() -> Event | None:
            await client.write_event(Describe().event())
            return await read_until(client, Info.is_type, HA_INFO_TIMEOUT)

        event = await asyncio.wait_for(describe(), HA_INFO_TIMEOUT)
        assert event is not None, "connection closed before info"
        return Info.from_event(event)


async def ha_stt(address: Address, pcm: bytes, language: str = "en") -> str | None:
    """stt.py's `async_process_audio_stream`: the transcript, or None when the connection closed
    first (Home Assistant's SpeechResultState.ERROR)."""
    async with AsyncTcpClient(*address) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(rate=HA_RATE, width=HA_WIDTH, channels=HA_CHANNELS).event())
        for start in range(0, len(pcm), HA_CHUNK_BYTES):
            chunk = AudioChunk(
                rate=HA_RATE, width=HA_WIDTH, channels=HA_CHANNELS, audio=pcm[start : start + HA_CHUNK_BYTES]
            )
            await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        event = await read_until(client, Transcript.is_type, REPLY_TIMEOUT)
        return Transcript.from_event(event).text if event is not None else None


async def ha_conversation(address: Address, text: str, conversation_id: str, **context: str) -> Event:
    """conversation.py's `async_process`: the `handled` or `not-handled` event. `context` adds keys
    to the transcript's context beside the conversation id (satellite_id, device_id), which
    conversation.py itself does not send."""
    async with AsyncTcpClient(*address) as client:
        await client.write_event(Transcript(text, context={"conversation_id": conversation_id, **context}).event())
        event = await read_until(client, lambda kind: Handled.is_type(kind) or NotHandled.is_type(kind), REPLY_TIMEOUT)
        assert event is not None, "connection closed before an answer"
        return event


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait (bounded) for the gateway to have done what `condition` looks for."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def encoded(*events: Event) -> bytes:
    """Events framed as the wyoming library writes them."""
    buffer = io.BytesIO()
    for event in events:
        write_event(event, buffer)
    return buffer.getvalue()


async def replies(reader: asyncio.StreamReader, timeout: float = 10.0) -> list[Event]:
    """Every event the gateway sends until it closes the connection (which it must, in `timeout`)."""

    async def read_all() -> list[Event]:
        events = []
        while (event := await async_read_event(reader)) is not None:
            events.append(event)
        return events

    return await asyncio.wait_for(read_all(), timeout)


def jobs(server: RunningServer) -> list[voxprint_pb2.Job]:
    """Every job on `server`, newest first."""
    return list(server.stub.ListJobs(voxprint_pb2.ListJobsRequest()).jobs)


def raw_raster(server: RunningServer, job_id: str) -> voxprint_pb2.FetchResponse:
    """The job's Fetch RAW: what its printout must hold."""
    return server.stub.Fetch(voxprint_pb2.FetchRequest(job_id=job_id, format=voxprint_pb2.FORMAT_RAW))


def pcm_of(wav_path: Path) -> bytes:
    """The frames of a 16 kHz 16-bit mono WAV: what Home Assistant streams."""
    with wave.open(str(wav_path), "rb") as reader:
        assert (reader.getframerate(), reader.getsampwidth(), reader.getnchannels()) == (HA_RATE, HA_WIDTH, 1)
        return reader.readframes(reader.getnframes())


class GatedIllustrator(ScriptedIllustrator):
    """Draws only once `gate` is set: the picture stays unfinished for as long as a test needs."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def illustrate(self, transcript: str) -> bytes:
        assert self.gate.wait(60), "test gate never opened"
        return super().illustrate(transcript)


@dataclass(frozen=True)
class Spool:
    """A directory destination: one `<job-id>.escpos` per printout."""

    directory: Path

    @property
    def destination(self) -> str:
        return str(self.directory)

    def jobs(self) -> list[str]:
        return sorted(path.name.removesuffix(".escpos") for path in self.directory.glob("*.escpos"))

    async def printed(self, job_id: str, timeout: float = REPLY_TIMEOUT) -> escpos.PrintedImage:
        path = self.directory / f"{job_id}.escpos"
        deadline = asyncio.get_running_loop().time() + timeout
        while not path.exists():
            assert asyncio.get_running_loop().time() < deadline, f"job {job_id} was not printed"
            await asyncio.sleep(0.02)
        return escpos.parse(path.read_bytes())


def spool(directory: Path) -> Spool:
    directory.mkdir(parents=True, exist_ok=True)
    return Spool(directory)
