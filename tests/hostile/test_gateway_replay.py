"""Nothing captured on the way works twice: a replayed AUDIO datagram does not move a recording's
replies to wherever it came from, and with --device-keys a replayed signed datagram is dropped,
by a restarted gateway too. A real gateway process; the eavesdropper replays from a loopback
address of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gateway import GatewayProcess, HandDevice
from tests.support.raw_udp import UdpListener
from voxprint.clients.gateway.protocol import JobNotice, Query

UNREACHABLE_SERVER = "127.0.0.1:1"
EAVESDROPPER_HOST = "127.0.0.77"
DEVICE = 0x0123456789ABCDEF
SECRET = bytes.fromhex("8d1f0c6a2b9e4f7780aa5c31d2e9b046")


@pytest.fixture
def eavesdropper() -> Iterator[UdpListener]:
    listener = UdpListener(EAVESDROPPER_HOST)
    yield listener
    listener.close()


@pytest.fixture
def device_keys(tmp_path: Path) -> Path:
    path = tmp_path / "device-keys"
    path.write_text(f"{DEVICE:016x} {SECRET.hex()}\n")
    return path


def replay(eavesdropper: UdpListener, datagrams: list[bytes], gateway: GatewayProcess) -> None:
    for datagram in datagrams:
        eavesdropper.socket.sendto(datagram, gateway.address)


def heard_back(device: HandDevice) -> bool:
    """Whether the gateway's "your recording arrived" notice has come."""
    device.listener.collect_until(lambda datagrams: bool(datagrams), timeout=5.0)
    return any(isinstance(reply, JobNotice) for reply in device.replies())


@pytest.mark.slow
def test_a_replayed_audio_datagram_does_not_take_the_recordings_replies_elsewhere(
    eavesdropper: UdpListener, tmp_path: Path
) -> None:
    gateway = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state")
    device = HandDevice(gateway.address)
    try:
        datagrams = device.recording()
        # A hole: the gateway waits for it a moment after END, while the replay arrives.
        device.transmit(*datagrams[:1], *datagrams[2:])
        replay(eavesdropper, datagrams[:1], gateway)
        assert heard_back(device)
        eavesdropper.collect(quiet=0.5)
    finally:
        device.close()
        gateway.stop()
    assert eavesdropper.datagrams == []


@pytest.mark.slow
def test_a_replayed_signed_query_is_dropped(eavesdropper: UdpListener, device_keys: Path, tmp_path: Path) -> None:
    gateway = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state", "--device-keys", str(device_keys))
    device = HandDevice(gateway.address, device_id=DEVICE, key=SECRET)
    try:
        device.record()
        assert heard_back(device)
        query = device.send(Query(device.device_id, device.session_id, device.cookie))
        replay(eavesdropper, [query], gateway)
        eavesdropper.collect(quiet=0.5)
        metrics = gateway.scrape()
    finally:
        device.close()
        gateway.stop()
    assert eavesdropper.datagrams == []
    assert metrics[("voxprint_gateway_datagrams_dropped_total", (("reason", "replayed"),))] == 1


@pytest.mark.slow
def test_a_signed_recording_replayed_to_a_restarted_gateway_is_not_taken_again(
    eavesdropper: UdpListener, device_keys: Path, tmp_path: Path
) -> None:
    flags = ("--device-keys", str(device_keys))
    first = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state", *flags)
    device = HandDevice(first.address, device_id=DEVICE, key=SECRET)
    try:
        captured = device.record()
        assert heard_back(device)
    finally:
        device.close()
        first.stop()
    second = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state", *flags)
    try:
        replay(eavesdropper, captured, second)
        eavesdropper.collect(quiet=1.0)
        metrics = second.scrape()
    finally:
        second.stop()
    assert metrics.get(("voxprint_gateway_recordings_assembled_total", ()), 0) == 0
    assert metrics[("voxprint_gateway_datagrams_dropped_total", (("reason", "replayed"),))] == len(captured)
