"""The gateway as a process, attacked on its Wyoming port from outside: headers claiming huge
payloads, and every connection it allows streaming the biggest recording it allows, cost memory
bounded by the configured limits (read from /proc, as an operator would), and it serves a client
afterwards."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from wyoming.audio import AudioChunk, AudioStart

from tests.support.gateway import GatewayProcess
from tests.support.wyoming import encoded, ha_describe
from voxprint.clients.gateway.assembler import Address, Limits
from voxprint.clients.gateway.wyoming import WyomingConfig
from voxprint.clients.gateway.wyoming_framing import FrameLimits

UNREACHABLE_SERVER = "127.0.0.1:1"
MIB = 1024 * 1024
CONFIG = WyomingConfig()
FRAMES = FrameLimits()
# What the limits allow: the shared audio budget, and on each connection a header buffer and the
# payload being read; plus room for the allocator's own slack.
BOUND_KIB = (
    CONFIG.max_buffered_bytes + CONFIG.max_connections * (2 * FRAMES.header_bytes + FRAMES.payload_bytes)
) // 1024
SLACK_KIB = 32 * 1024


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state", "--wyoming-listen", "tcp://127.0.0.1:0")
    yield process
    process.stop()


def wyoming_port(gateway: GatewayProcess) -> Address:
    match = next(m for line in gateway.log if (m := re.search(r"wyoming on tcp://([\d.]+):(\d+)", line)))
    return match.group(1), int(match.group(2))


async def attack(address: Address, first: bytes, then: bytes, repeat: int) -> None:
    """Every allowed connection at once: `first`, then `then` `repeat` times, until refused."""

    async def one() -> None:
        reader, writer = await asyncio.open_connection(*address)
        try:
            writer.write(first)
            for _ in range(repeat):
                writer.write(then)
                await writer.drain()
        except ConnectionError:
            pass  # refused and closed mid-stream: the point
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(CONFIG.max_connections)))


@pytest.mark.slow
async def test_headers_claiming_huge_payloads_cost_nothing(gateway: GatewayProcess) -> None:
    address = wyoming_port(gateway)
    idle = gateway.status_kib("VmHWM")
    claim = json.dumps({"type": "audio-chunk", "payload_length": 2**40}).encode() + b"\n"
    await attack(address, claim, bytes(MIB), repeat=8)
    await ha_describe(address)
    assert gateway.status_kib("VmHWM") - idle < SLACK_KIB


@pytest.mark.slow
async def test_every_connection_streaming_the_longest_recording_stays_within_the_audio_budget(
    gateway: GatewayProcess,
) -> None:
    address = wyoming_port(gateway)
    idle = gateway.status_kib("VmHWM")
    # 48 kHz, 32-bit stereo: 384 KB a second, so --max-seconds allows the whole 8 MiB cap a recording.
    start = encoded(AudioStart(48_000, 4, 2).event())
    chunk = encoded(AudioChunk(48_000, 4, 2, bytes(FRAMES.payload_bytes - 8)).event())
    await attack(address, start, chunk, repeat=Limits().max_bytes // FRAMES.payload_bytes + 2)
    await ha_describe(address)
    assert gateway.status_kib("VmHWM") - idle < BOUND_KIB + SLACK_KIB
