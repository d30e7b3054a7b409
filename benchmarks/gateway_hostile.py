"""Gateway memory under attack: the peak RSS of a voxprint-gateway process under a sequence-number
bomb and under a START flood, beside its idle RSS.

    python -m benchmarks.gateway_hostile [--seconds 5]

Each scenario runs against a fresh gateway process (no server behind it, so nothing it assembles
ever leaves), sent to over loopback from this process for `--seconds`. Memory is the process's
own account in /proc/<pid>/status: VmRSS when idle, VmHWM (the peak resident set) after the
attack; the counts come from its /metrics. Each attack runs twice: with the default per-source
rate limit, and with the rate limit lifted, so the bound shown is the one the session quotas and
the sequence and size checks give on their own.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.gateway import GatewayProcess
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import RAW_FORMAT, Limits
from voxprint.clients.gateway.protocol import Audio, AudioFlag, SampleFormat

UNREACHABLE_SERVER = "127.0.0.1:1"
NO_RATE_LIMIT = ("--rate-limit", "1e12", "--rate-burst", "1e12")
LAST_SEQUENCE = 0xFFFF_FFFF
FULL_PAYLOAD = protocol.MAX_AUDIO_PAYLOAD
FLOOD_SESSIONS = 200
BOMB_SOURCES = 16


def audio(device: int, session: int, sequence: int, payload: bytes, flags: AudioFlag) -> bytes:
    return protocol.encode(Audio(device, session, sequence, 16_000, 1, SampleFormat.S16LE, payload, flags))


def sequence_bombs(source: int) -> Iterator[bytes]:
    """Fresh sessions, each claiming as much as a datagram can: an END with the last sequence
    number, then a full datagram plus an END at the highest sequence the size limit still allows
    (a 30-second recording that is nearly all holes)."""
    highest_allowed = Limits().max_recording_bytes(RAW_FORMAT) // FULL_PAYLOAD - 1
    session = 0
    while True:
        session += 1
        yield audio(source, session, LAST_SEQUENCE, b"", AudioFlag.END)
        session += 1
        yield audio(source, session, 0, bytes(FULL_PAYLOAD), AudioFlag.START)
        yield audio(source, session, highest_allowed, bytes(FULL_PAYLOAD), AudioFlag.END)


def start_flood(source: int) -> Iterator[bytes]:
    """The same FLOOD_SESSIONS sessions' START datagrams, round and round."""
    starts = [audio(source, session, 0, bytes(FULL_PAYLOAD), AudioFlag.START) for session in range(FLOOD_SESSIONS)]
    while True:
        yield from starts


@dataclass(frozen=True)
class Attack:
    name: str
    datagrams: Callable[[int], Iterator[bytes]]
    sources: int


ATTACKS = [
    Attack(f"sequence bomb from {BOMB_SOURCES} addresses", sequence_bombs, BOMB_SOURCES),
    Attack(f"START flood, {FLOOD_SESSIONS} sessions from 1 address", start_flood, 1),
    Attack(f"START flood, {FLOOD_SESSIONS} sessions from each of 64 addresses", start_flood, 64),
]


@dataclass(frozen=True)
class Measurement:
    scenario: str
    sent: int
    received: int
    idle_rss_mib: float
    peak_rss_mib: float


def source_socket(index: int) -> socket.socket:
    """A UDP socket on its own loopback address (all of 127/8 reaches the gateway), so each
    source is a distinct address, as separate attackers or sites would be."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((f"127.0.1.{index + 1}", 0))
    return udp


def attack(attack: Attack, seconds: float, flags: tuple[str, ...], label: str) -> Measurement:
    with tempfile.TemporaryDirectory() as state:
        gateway = GatewayProcess(UNREACHABLE_SERVER, Path(state), *flags)
        try:
            time.sleep(1.0)  # let start-up allocation settle before reading the idle figure
            idle = gateway.status_kib("VmRSS")
            sockets = [source_socket(index) for index in range(attack.sources)]
            streams = [attack.datagrams(0xA77AC000 + source) for source in range(attack.sources)]
            sent = 0
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for sender, stream in zip(sockets, streams, strict=True):
                    for _ in range(16):
                        sender.sendto(next(stream), gateway.address)
                    sent += 16
            for sender in sockets:
                sender.close()
            time.sleep(2 * Limits.silence_timeout)  # let the gateway finish what it received
            received = gateway.scrape()[("voxprint_gateway_datagrams_received_total", (("port", "framed"),))]
            peak = gateway.status_kib("VmHWM")
        finally:
            gateway.stop()
    return Measurement(f"{attack.name}{label}", sent, int(received), idle / 1024, peak / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="how long each attack lasts")
    args = parser.parse_args()
    results = [
        attack(each, args.seconds, flags, label)
        for each in ATTACKS
        for flags, label in (((), ""), (NO_RATE_LIMIT, ", rate limit lifted"))
    ]
    width = max(len(result.scenario) for result in results)
    print(f"{'scenario':<{width}} {'sent':>9} {'received':>9} {'idle RSS':>9} {'peak RSS':>9} {'growth':>8}")
    for result in results:
        print(
            f"{result.scenario:<{width}} {result.sent:>9} {result.received:>9} {result.idle_rss_mib:>7.1f}Mi"
            f" {result.peak_rss_mib:>7.1f}Mi {result.peak_rss_mib - result.idle_rss_mib:>6.1f}Mi"
        )


if __name__ == "__main__":
    main()
