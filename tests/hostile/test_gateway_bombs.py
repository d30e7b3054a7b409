"""The gateway as a process, attacked from outside over loopback: a sequence-number bomb and a
START flood cost bounded memory and are counted, an over-eager source is rate limited, and the
gateway keeps assembling real recordings. Read through /metrics and /proc, as an operator would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gateway import GatewayProcess, Metrics, part
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.protocol import Audio, AudioFlag, SampleFormat

UNREACHABLE_SERVER = "127.0.0.1:1"
# Far below the ~2 GiB one bomb cost before sequence numbers were bounded, and far above noise.
MEMORY_GROWTH_LIMIT_KIB = 32 * 1024
LAST_SEQUENCE = 0xFFFF_FFFF


def end_bomb(session: int) -> bytes:
    return protocol.encode(Audio(0xB0B, session, LAST_SEQUENCE, 16_000, 1, SampleFormat.S16LE, b"", AudioFlag.END))


def start_datagram(session: int) -> bytes:
    return protocol.encode(Audio(0xF100D, session, 0, 16_000, 1, SampleFormat.S16LE, bytes(64), AudioFlag.START))


def send(sender: socket.socket, gateway: GatewayProcess, datagrams: list[bytes]) -> None:
    for datagram in datagrams:
        sender.sendto(datagram, gateway.address)


def eventually(gateway: GatewayProcess, condition, timeout: float = 10.0) -> Metrics:
    """The first scrape satisfying `condition`."""
    deadline = time.monotonic() + timeout
    while not condition(metrics := gateway.scrape()):
        assert time.monotonic() < deadline, f"timed out; last scrape: {metrics}"
        time.sleep(0.05)
    return metrics


def counter(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.get((f"voxprint_gateway_{name}", tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def sender() -> Iterator[socket.socket]:
    """One UDP source (one address and port), as one device or attacker has."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        yield udp


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state", "--silence-timeout", "0.3")
    yield process
    process.stop()


def test_end_datagrams_claiming_the_last_sequence_number_cost_no_memory(
    gateway: GatewayProcess, sender: socket.socket
) -> None:
    idle = gateway.status_kib("VmHWM")
    send(sender, gateway, [end_bomb(session) for session in range(100)])
    eventually(gateway, lambda m: counter(m, "recordings_dropped_total", reason="overlong") == 100)
    assert gateway.status_kib("VmHWM") - idle < MEMORY_GROWTH_LIMIT_KIB


def test_after_a_sequence_bomb_a_real_recording_is_still_assembled(
    gateway: GatewayProcess, sender: socket.socket
) -> None:
    send(sender, gateway, [end_bomb(session) for session in range(10)])
    send(sender, gateway, [protocol.encode(part(i, device=7, last=3, frames=256)) for i in range(4)])
    eventually(gateway, lambda m: counter(m, "recordings_assembled_total") == 1)


def test_a_start_flood_from_one_source_holds_only_that_sources_quota(
    gateway: GatewayProcess, sender: socket.socket
) -> None:
    idle = gateway.status_kib("VmHWM")
    flood = [start_datagram(session) for session in range(200)]
    flooding = threading.Event()
    flooding.set()

    def flood_continuously() -> None:
        while flooding.is_set():
            send(sender, gateway, flood)

    flooder = threading.Thread(target=flood_continuously)
    flooder.start()
    try:
        scrapes = []
        for _ in range(20):
            time.sleep(0.05)
            scrapes.append(gateway.scrape())
    finally:
        flooding.clear()
        flooder.join()
    assert max(counter(metrics, "sessions_open") for metrics in scrapes) <= 4
    assert counter(scrapes[-1], "sessions_evicted_total") >= 196
    assert gateway.status_kib("VmHWM") - idle < MEMORY_GROWTH_LIMIT_KIB


def test_a_source_sending_faster_than_its_rate_is_dropped_and_counted(tmp_path: Path, sender: socket.socket) -> None:
    gateway = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "state", "--rate-limit", "20", "--rate-burst", "20")
    try:
        began = time.monotonic()
        send(sender, gateway, [b"junk"] * 200)
        elapsed = time.monotonic() - began
        metrics = eventually(gateway, lambda m: counter(m, "datagrams_dropped_total", reason="rate_limited") > 0)
        metrics = eventually(
            gateway,
            lambda m: (
                counter(m, "datagrams_dropped_total", reason="rate_limited")
                + counter(m, "datagrams_dropped_total", reason="bad_magic")
                == counter(m, "datagrams_received_total", port="framed")
            ),
        )
        assert counter(metrics, "datagrams_dropped_total", reason="bad_magic") <= 20 + 20 * (elapsed + 1)
    finally:
        gateway.stop()
