"""A fuzzer over Wyoming event framing: random bytes, garbled JSON lines and lying lengths make the
reader return events, refuse with a reason or see the end — never fail otherwise, never hand on
more than the limits allow — and random event sequences on a live gateway never break a connection's
handler nor stop the next client being served."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wyoming.event import Event

from tests.support.wyoming import encoded, ha_describe, replies, wyoming_address, wyoming_gateway
from voxprint.clients.gateway.wyoming_framing import FrameLimits, Refusal, read_event
from voxprint.common.backoff import Backoff

LIMITS = FrameLimits(header_bytes=1024, data_bytes=512, payload_bytes=2048)
KNOWN = ["describe", "ping", "transcript", "transcribe", "audio-start", "audio-chunk", "audio-stop", "select-program"]
NO_RETRY = Backoff(attempts=1)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
lengths = st.one_of(
    st.none(), st.integers(-5, 3000), st.integers(), st.text(max_size=4), st.booleans(), st.floats(), json_values
)
headers = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(KNOWN), st.text(max_size=12), json_values)},
    optional={"data": json_values, "data_length": lengths, "payload_length": lengths, "version": json_values},
)


def read_all(stream: bytes) -> list[Event]:
    """Every event of `stream` until the end or a refusal."""

    async def read() -> list[Event]:
        reader = asyncio.StreamReader(limit=LIMITS.header_bytes)
        reader.feed_data(stream)
        reader.feed_eof()
        events = []
        while True:
            try:
                event = await read_event(reader, LIMITS)
            except Refusal as refusal:
                assert refusal.code in ("bad-event", "too-large") and refusal.text and refusal.close
                return events
            if event is None:
                return events
            events.append(event)

    events = asyncio.run(read())
    for event in events:
        assert isinstance(event.type, str) and isinstance(event.data, dict)
        assert len(event.payload or b"") <= LIMITS.payload_bytes
    return events


@given(st.binary(max_size=4096))
def test_random_bytes_are_read_as_events_a_refusal_or_the_end(stream: bytes) -> None:
    read_all(stream)


@given(st.lists(st.tuples(headers, st.binary(max_size=64)), max_size=6))
def test_garbled_json_lines_and_lying_lengths_are_read_as_events_a_refusal_or_the_end(
    frames: list[tuple[dict[str, Any], bytes]],
) -> None:
    read_all(b"".join(json.dumps(header).encode() + b"\n" + tail for header, tail in frames))


@given(st.lists(st.binary(max_size=200), max_size=6), st.binary(max_size=3000))
def test_a_data_or_payload_of_any_length_within_the_limit_is_read_whole(data: list[bytes], payload: bytes) -> None:
    header = {"type": "audio-chunk", "data": {"rate": 16000}, "payload_length": len(payload)}
    stream = json.dumps(header).encode() + b"\n" + payload + b"".join(data)
    events = read_all(stream)
    if len(payload) <= LIMITS.payload_bytes:
        assert events and (events[0].payload or b"") == payload


event_data = st.dictionaries(
    st.sampled_from(["text", "rate", "width", "channels", "context", "name", "language", "timestamp"]),
    st.one_of(json_values, st.sampled_from([16_000, 2, 1, "voxprint", "draw a cat"])),
    max_size=5,
)
events = st.builds(
    Event,
    type=st.one_of(st.sampled_from(KNOWN), st.text(max_size=10)),
    data=event_data,
    payload=st.one_of(st.none(), st.binary(max_size=700)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=12))
def test_random_event_sequences_never_break_a_handler_nor_the_next_client(sequence: list[Event]) -> None:
    async def scenario() -> None:
        async with wyoming_gateway("127.0.0.1:1", interactive_retry=NO_RETRY, idle_timeout=5.0) as gateway:
            reader, writer = await asyncio.open_connection(*wyoming_address(gateway))
            writer.write(encoded(*sequence))
            writer.write_eof()
            await replies(reader, timeout=10)
            writer.close()
            await ha_describe(wyoming_address(gateway))
            assert gateway.counters["wyoming.connections.crashed"] == 0

    asyncio.run(scenario())
