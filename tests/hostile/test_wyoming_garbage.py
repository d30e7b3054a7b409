"""Bad input on the Wyoming port: whatever is not a Wyoming event, or is one voxprint cannot serve,
gets an `error` event naming the problem (and a closed connection when the stream or the request
cannot go on); an unknown event is refused and the connection served on; and the next client is
served as if nothing happened."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe, Info, SelectProgram

from tests.support.wyoming import encoded, ha_describe, replies, wyoming_address, wyoming_gateway
from voxprint.clients.gateway.main import Gateway
from voxprint.clients.gateway.wyoming_framing import FrameLimits

UNREACHABLE_SERVER = "127.0.0.1:1"
LIMITS = FrameLimits()
DEEP = b'{"a": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"


def header(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


FRAMING = {
    "not JSON": (b"hello there\n", "bad-event"),
    "a JSON list": (b"[1, 2]\n", "bad-event"),
    "no type": (header(data={}), "bad-event"),
    "a type that is not text": (header(type=7), "bad-event"),
    "data that is not an object": (header(type="describe", data=5), "bad-event"),
    "data_length as text": (header(type="describe", data_length="ten"), "bad-event"),
    "a negative data_length": (header(type="describe", data_length=-1), "bad-event"),
    "data_length true": (header(type="describe", data_length=True), "bad-event"),
    "a fractional payload_length": (header(type="audio-chunk", payload_length=2.5), "bad-event"),
    "a 10 GB payload_length": (header(type="audio-chunk", payload_length=10**10), "too-large"),
    "a data_length over the limit": (header(type="transcript", data_length=LIMITS.data_bytes + 1), "too-large"),
    "data that is a JSON list": (header(type="transcript", data_length=6) + b"[1, 2]", "bad-event"),
    "data that is not JSON": (header(type="transcript", data_length=3) + b"abc", "bad-event"),
    "a header nested 20000 deep": (b'{"type": "x", "data": ' + b"[" * 20_000 + b"\n", "bad-event"),
    "data nested 20000 deep": (header(type="transcript", data_length=len(DEEP)) + DEEP, "bad-event"),
    "a header that is not UTF-8": (b'{"type": "\xff\xfe"}\n', "bad-event"),
    "a header longer than the limit": (b'{"type": "' + b"x" * (LIMITS.header_bytes + 10), "too-large"),
}


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async with wyoming_gateway(UNREACHABLE_SERVER) as running:
        yield running


async def send_raw(gateway: Gateway, data: bytes) -> list[Event]:
    """`data` written to a fresh connection; every event the gateway answered before closing it."""
    reader, writer = await asyncio.open_connection(*wyoming_address(gateway))
    try:
        writer.write(data)
        await writer.drain()
        return await replies(reader)
    finally:
        writer.close()


async def send_events(gateway: Gateway, *events: Event) -> list[Event]:
    return await send_raw(gateway, encoded(*events))


def refused(events: list[Event], code: str) -> Error:
    """The one error event the gateway answered with."""
    assert [event.type for event in events] == ["error"], events
    error = Error.from_event(events[0])
    assert error.code == code, error
    return error


@pytest.mark.parametrize("case", FRAMING)
async def test_what_is_not_a_wyoming_event_gets_an_error_and_a_closed_connection(gateway: Gateway, case: str) -> None:
    data, code = FRAMING[case]
    refused(await send_raw(gateway, data), code)
    assert gateway.counters[f"wyoming.refused.{code}"] == 1
    await ha_describe(wyoming_address(gateway))


async def test_a_payload_over_the_limit_is_refused_before_it_is_read(gateway: Gateway) -> None:
    reader, writer = await asyncio.open_connection(*wyoming_address(gateway))
    writer.write(header(type="audio-chunk", payload_length=LIMITS.payload_bytes + 1))
    await writer.drain()
    error = refused(await replies(reader), "too-large")
    writer.close()
    assert "payload_length" in error.text


@pytest.mark.parametrize(
    ("events", "code"),
    [
        ([AudioChunk(16_000, 2, 1, bytes(320)).event()], "bad-audio"),
        ([AudioStop().event()], "bad-audio"),
        ([AudioStart(16_000, 1, 1).event()], "unsupported-audio"),
        ([AudioStart(96_000, 2, 1).event()], "unsupported-audio"),
        ([Event("audio-start", {"rate": "16000", "width": 2, "channels": 1})], "bad-audio"),
        ([AudioStart(16_000, 2, 1).event(), AudioChunk(8_000, 2, 1, bytes(320)).event()], "bad-audio"),
        ([Event("transcript", {"context": {}})], "bad-event"),
        ([Event("transcript", {"text": 42})], "bad-event"),
    ],
    ids=[
        "audio-chunk first",
        "audio-stop first",
        "8-bit audio",
        "96 kHz audio",
        "a rate as text",
        "a chunk changing format",
        "a transcript without text",
        "a transcript whose text is a number",
    ],
)
async def test_an_event_voxprint_cannot_serve_gets_an_error_and_a_closed_connection(
    gateway: Gateway, events: list[Event], code: str
) -> None:
    refused(await send_events(gateway, *events), code)
    await ha_describe(wyoming_address(gateway))


async def test_an_unknown_event_is_refused_and_the_connection_served_on(gateway: Gateway) -> None:
    reader, writer = await asyncio.open_connection(*wyoming_address(gateway))
    try:
        for event in (Event("synthesize", {"text": "hello"}), SelectProgram("whisper").event(), Describe().event()):
            await async_write_event(event, writer)
        answers = [await asyncio.wait_for(async_read_event(reader), 5) for _ in range(3)]
    finally:
        writer.close()
    assert [event.type for event in answers if event] == ["error", "error", "info"]
    assert [Error.from_event(event).code for event in answers[:2] if event] == ["unknown-event", "unknown-program"]
    assert Info.from_event(answers[2]).handle  # type: ignore[arg-type]


async def test_a_connection_collecting_refusals_is_closed(gateway: Gateway) -> None:
    unknown = Event("wake-me-up", {})
    events = await send_events(gateway, *[unknown] * 20)
    assert [event.type for event in events] == ["error"] * 8


async def test_selecting_voxprints_own_program_is_accepted_silently(gateway: Gateway) -> None:
    reader, writer = await asyncio.open_connection(*wyoming_address(gateway))
    try:
        await async_write_event(SelectProgram("voxprint").event(), writer)
        await async_write_event(Describe().event(), writer)
        answer = await asyncio.wait_for(async_read_event(reader), 5)
    finally:
        writer.close()
    assert answer is not None and answer.type == "info"
