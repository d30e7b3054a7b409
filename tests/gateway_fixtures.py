"""Shared pieces for gateway tests: a gateway on loopback, datagrams of a recognisable recording,
and a second spoken recording."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from clients import AsyncVoxprintClient
from clients.gateway.assembler import Limits
from clients.gateway.counters import Counters
from clients.gateway.main import Gateway, GatewayConfig, RetryPolicy
from clients.gateway.protocol import Audio, AudioFlag, SampleFormat
from tests.conftest import speak

SECOND_PHRASE = "a banana and an apple"
FRAMES = 8  # per datagram of part()

# Loopback-sized: short timeouts and fast retries keep the tests quick; the behaviour is the same.
TEST_CONFIG = GatewayConfig(
    listen=("127.0.0.1", 0),
    limits=Limits(silence_timeout=0.5, reorder_grace=0.1, max_seconds=15.0),
    retry=RetryPolicy(first_delay=0.1, max_delay=0.5, give_up_after=60.0),
    chunk_interval=0.0005,
    counters_interval=3600.0,
    job_timeout=120.0,
)


@asynccontextmanager
async def running_gateway(server_target: str, **overrides: object) -> AsyncIterator[Gateway]:
    """A started gateway on 127.0.0.1 (random port) in front of `server_target`."""
    async with AsyncVoxprintClient(server_target) as client:
        gateway = Gateway(replace(TEST_CONFIG, **overrides), client)
        await gateway.start()
        try:
            yield gateway
        finally:
            await gateway.close()


@pytest.fixture(scope="session")
def second_speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Someone saying SECOND_PHRASE: a recording that must never mix with the penguins."""
    return speak(SECOND_PHRASE, tmp_path_factory.mktemp("speech") / "fruit.wav")


@pytest.fixture
def counters() -> Counters:
    return Counters()


def part(
    sequence: int,
    device: int = 1,
    session: int = 1,
    *,
    last: int | None = None,
    fmt: SampleFormat = SampleFormat.S16LE,
    rate: int = 16_000,
    frames: int = FRAMES,
) -> Audio:
    """Datagram `sequence` of a recording whose samples all equal sequence + 1 (never silence)."""
    flags = AudioFlag.NONE
    if sequence == 0:
        flags |= AudioFlag.START
    if sequence == last:
        flags |= AudioFlag.END
    sample = ((sequence + 1) % 256).to_bytes(fmt.width, "little")
    return Audio(device, session, sequence, rate, 1, fmt, sample * frames, flags)
