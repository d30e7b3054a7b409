"""A gateway with --device-keys hears only devices that tag their datagrams with their secret:
untagged, wrongly tagged and unknown devices are dropped and counted, and open no recording.
Simulated devices over loopback against a gateway with no server behind it: the gateway's first
notice ("your recording arrived") is the sign a device was heard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.audio import wav_bytes
from tests.support.gateway import running_gateway
from voxprint.clients.device_sim import SimulatedDevice, read_wav

DEVICE = 0x0123456789ABCDEF
SECRET = bytes.fromhex("8d1f0c6a2b9e4f7780aa5c31d2e9b046")
KEYS = {DEVICE: SECRET}
UNREACHABLE_SERVER = "127.0.0.1:1"
# Long enough for the recording to be assembled and its first notice to come back.
CONVERSATION = 1.0


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    path.write_bytes(wav_bytes(0.3))
    return path


async def heard(tone: Path, device_id: int, key: bytes | None, counter: str) -> tuple[int, int]:
    """Notices the device got and how often the gateway counted `counter`, with KEYS configured."""
    async with running_gateway(UNREACHABLE_SERVER, device_keys=KEYS) as gateway:
        device = SimulatedDevice(gateway.address, device_id=device_id, key=key, speed=50.0)
        result = await device.run(read_wav(tone), timeout=CONVERSATION)
        assert gateway.counters["recordings.assembled"] == (1 if result.notices else 0)
        return result.notices, gateway.counters[counter]


async def test_a_device_tagging_with_its_secret_is_heard_and_its_replies_are_tagged(tone: Path) -> None:
    notices, dropped = await heard(tone, DEVICE, SECRET, "datagrams.dropped.bad_tag")
    assert notices > 0 and dropped == 0


async def test_an_untagged_device_is_dropped_and_counted(tone: Path) -> None:
    notices, dropped = await heard(tone, DEVICE, None, "datagrams.dropped.untagged")
    assert notices == 0 and dropped > 0


async def test_a_device_tagging_with_another_secret_is_dropped_and_counted(tone: Path) -> None:
    notices, dropped = await heard(tone, DEVICE, bytes(16), "datagrams.dropped.bad_tag")
    assert notices == 0 and dropped > 0


async def test_a_device_missing_from_the_keys_file_is_dropped_and_counted(tone: Path) -> None:
    notices, dropped = await heard(tone, DEVICE + 1, SECRET, "datagrams.dropped.unknown_device")
    assert notices == 0 and dropped > 0


async def test_a_gateway_without_keys_hears_a_tagged_device_whose_untagged_replies_it_ignores(tone: Path) -> None:
    async with running_gateway(UNREACHABLE_SERVER) as gateway:
        device = SimulatedDevice(gateway.address, device_id=DEVICE, key=SECRET, speed=50.0)
        result = await device.run(read_wav(tone), timeout=CONVERSATION)
        assert gateway.counters["recordings.assembled"] == 1 and gateway.counters["notices.sent"] > 0
    assert result.notices == 0  # a device holding a secret trusts only replies tagged with it
