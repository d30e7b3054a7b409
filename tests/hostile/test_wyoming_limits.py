"""What a Wyoming client can make the gateway spend is bounded: connections in number and idle
time, a client that will not read what it is sent, a recording beyond the gateway's length limit,
and the audio all connections may hold at once. Each is refused with an `error` event and a closed
connection, counted, and the next client is served."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from wyoming.audio import AudioChunk, AudioStart
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.gateway import TEST_CONFIG
from tests.support.wyoming import (
    HA_CHUNK_BYTES,
    encoded,
    ha_describe,
    ha_stt,
    jobs,
    replies,
    until,
    wyoming_address,
    wyoming_gateway,
)
from voxprint.clients.gateway.main import Gateway

UNREACHABLE_SERVER = "127.0.0.1:1"
SHORT = 0.3


def only_error(events: list[Event]) -> Error:
    assert [event.type for event in events] == ["error"], events
    return Error.from_event(events[0])


async def connect(gateway: Gateway) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(*wyoming_address(gateway))


async def test_connections_beyond_the_limit_are_refused_until_one_closes() -> None:
    async with wyoming_gateway(UNREACHABLE_SERVER, max_connections=2) as gateway:
        held = [await connect(gateway) for _ in range(2)]
        await until(lambda: gateway.counters["wyoming.connections.accepted"] == 2)
        reader, writer = await connect(gateway)
        error = only_error(await replies(reader))
        writer.close()
        held[0][1].close()
        await until(lambda: gateway.counters["wyoming.connections.closed"] == 1)
        await ha_describe(wyoming_address(gateway))
        for _, held_writer in held:
            held_writer.close()
        assert gateway.counters["wyoming.connections.refused"] == 1
    assert error.code == "busy" and "2 connections" in error.text


async def test_a_silent_connection_is_closed_after_the_idle_timeout() -> None:
    async with wyoming_gateway(UNREACHABLE_SERVER, idle_timeout=SHORT) as gateway:
        reader, writer = await connect(gateway)
        error = only_error(await replies(reader, timeout=5))
        writer.close()
        assert gateway.counters["wyoming.refused.idle"] == 1
    assert error.code == "idle"


async def test_a_header_trickled_a_byte_at_a_time_is_closed_after_the_idle_timeout() -> None:
    async with wyoming_gateway(UNREACHABLE_SERVER, idle_timeout=SHORT) as gateway:
        reader, writer = await connect(gateway)
        answered = asyncio.ensure_future(replies(reader, timeout=5))
        for byte in b'{"type": "describe"':
            if answered.done():
                break
            writer.write(bytes([byte]))
            await asyncio.sleep(SHORT / 4)
        error = only_error(await answered)
        writer.close()
    assert error.code == "idle"


async def test_a_client_that_does_not_read_is_closed_and_others_are_served() -> None:
    async with wyoming_gateway(UNREACHABLE_SERVER, write_timeout=SHORT) as gateway:
        _, writer = await connect(gateway)
        # Each describe makes the gateway write 1.5 KB of info, 30 MB in all (more than socket
        # buffers hold); none of it is read.
        flood = encoded(*[Describe().event()] * 20_000)
        writer.write(flood)
        await until(lambda: gateway.counters["wyoming.connections.lost"] == 1, timeout=20)
        await ha_describe(wyoming_address(gateway))
        writer.close()


async def test_a_recording_longer_than_the_limit_is_refused_as_it_arrives_and_makes_no_job(server_factory) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    limits = replace(TEST_CONFIG.limits, max_seconds=1.0)
    async with wyoming_gateway(server.target, limits=limits) as gateway:
        two_seconds = bytes(2 * 16_000 * 2)
        assert await ha_stt(wyoming_address(gateway), two_seconds) is None  # Home Assistant: an error
        assert gateway.counters["wyoming.refused.too-long"] == 1
        assert gateway.counters["wyoming.events.audio-chunk"] <= 16_000 * 2 // HA_CHUNK_BYTES + 1
    assert jobs(server) == []


async def test_the_audio_all_connections_hold_is_bounded_and_given_back_when_they_close() -> None:
    async with wyoming_gateway(UNREACHABLE_SERVER, max_buffered_bytes=64 * 1024) as gateway:
        start = AudioStart(16_000, 2, 1).event()
        chunk = AudioChunk(16_000, 2, 1, bytes(16 * 1024)).event()
        first_reader, first = await connect(gateway)
        first.write(encoded(start, chunk, chunk, chunk))
        await until(lambda: gateway.counters["wyoming.events.audio-chunk"] == 3)
        second_reader, second = await connect(gateway)
        second.write(encoded(start, chunk, chunk))
        error = only_error(await replies(second_reader))
        second.close()
        first.close()
        await replies(first_reader)
        third_reader, third = await connect(gateway)
        third.write(encoded(start, chunk, chunk, chunk, chunk, Describe().event()))
        reply = await asyncio.wait_for(third_reader.readline(), 5)
        third.close()
    assert error.code == "busy"
    assert b'"info"' in reply
