"""Reflection through the UDP gateway: the bytes reaching a third party per byte sent in its name.

    python -m benchmarks.gateway_reflection [--seconds 3]      (as root: it forges source addresses)

A voxprint-gateway process runs in front of a real server in this process (scripted instant
stages). The attacker is a device that recorded a phrase and holds its finished job without ever
acknowledging it, so the gateway keeps the raster; it knows everything a device knows, its own
cookie included. It sends datagrams about that job with a victim's source address (a raw socket,
loopback only): first the three RESENDs of issue 21's report, then floods of `--seconds` each as
fast as one Python thread goes, with the gateway's rate limit lifted so that nothing but path
validation stands in the way. The victim, a socket on a loopback address of its own (one per
attack), counts what reaches it; the gateway's /metrics count what reached the gateway (a flood
overflows the loopback socket buffer, as it would a real network).

Target: an address that has not proven it receives is sent no more bytes than reached the gateway
in its name (≤ 1×; fewer were sent still). The last row is for comparison: the device asking for
its raster from its own, proven address, which is what the cookie is for.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.gateway import GatewayProcess, HandDevice
from tests.support.raw_udp import ForgedUdp, UdpListener, open_forged_udp
from tests.support.servers import RunningServer, offline_settings
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.protocol import Query, Resend

NO_RATE_LIMIT = ("--rate-limit", "1e12", "--rate-burst", "1e12")
DEVICE = 0x0123456789ABCDEF
SECRET = bytes(range(32))
TARGET = 1.0
BURST = 64  # datagrams forged between two looks at the clock
# Room for everything a flood could bring the victim, so none of it is lost uncounted.
VICTIM_BUFFER = 512 * 1024 * 1024


@dataclass(frozen=True)
class Attack:
    name: str
    # The datagram forged over and over, made from what the attacking device knows.
    datagram: Callable[[HandDevice], bytes]
    signed: bool = False
    # How many are forged; None: as many as `--seconds` allows.
    count: int | None = None


def whole_raster(device: HandDevice) -> bytes:
    return device.encode(Resend(device.device_id, device.session_id, cookie=device.cookie))


def chunk_zero_over_and_over(device: HandDevice) -> bytes:
    indices = (0,) * protocol.MAX_RESEND_INDICES
    return device.encode(Resend(device.device_id, device.session_id, indices, device.cookie))


def query(device: HandDevice) -> bytes:
    return device.encode(Query(device.device_id, device.session_id, device.cookie))


def padded_query(device: HandDevice) -> bytes:
    padding = protocol.MAX_DATAGRAM_SIZE - protocol.QUERY_SIZE
    return device.encode(Query(device.device_id, device.session_id, padding=padding))


def captured_resend(device: HandDevice) -> bytes:
    """A signed RESEND the device really sent (and the gateway took), captured on the way."""
    return device.send(Resend(device.device_id, device.session_id, cookie=device.cookie))


ATTACKS = [
    Attack("issue 21's report: 3 RESENDs for the whole raster", whole_raster, count=3),
    Attack("flood: RESEND for the whole raster, with the attacker's own cookie", whole_raster),
    Attack(f"flood: RESEND naming chunk 0 {protocol.MAX_RESEND_INDICES} times", chunk_zero_over_and_over),
    Attack("flood: QUERY for the notice and its transcript", query),
    Attack(f"flood: QUERY padded to {protocol.MAX_DATAGRAM_SIZE} bytes (paying for its answer)", padded_query),
    Attack("flood, --device-keys: a captured signed RESEND, replayed", captured_resend, signed=True),
]


@dataclass(frozen=True)
class Measurement:
    scenario: str
    sent: int  # datagrams
    received: int  # of them, by the gateway
    size: int  # bytes each
    to_victim: int  # bytes
    proven: bool = False

    @property
    def ratio(self) -> float:
        """Bytes to the victim per byte that reached the gateway in its name."""
        return self.to_victim / (self.received * self.size)


@contextmanager
def attacker(server: RunningServer, state: Path, signed: bool) -> Iterator[tuple[GatewayProcess, HandDevice]]:
    """A gateway, and a device holding its finished, unacknowledged raster."""
    flags = list(NO_RATE_LIMIT)
    key = SECRET if signed else None
    if signed:
        keys = state / "device-keys"
        keys.write_text(f"{DEVICE:016x} {SECRET.hex()}\n")
        flags += ["--device-keys", str(keys)]
    gateway = GatewayProcess(server.target, state / "gateway", *flags)
    device = HandDevice(gateway.address, device_id=DEVICE, key=key)
    try:
        device.record()
        device.prove()
        device.await_raster()
        yield gateway, device
    finally:
        device.close()
        gateway.stop()


def received(gateway: GatewayProcess) -> int:
    return int(gateway.scrape()[("voxprint_gateway_datagrams_received_total", (("port", "framed"),))])


def forge(
    forged: ForgedUdp, datagram: bytes, victim: UdpListener, gateway: GatewayProcess, attack: Attack, seconds: float
) -> int:
    """Forges `datagram` in the victim's name as `attack` says; returns how many were sent."""
    if attack.count is not None:
        for _ in range(attack.count):
            forged.send(datagram, victim.address, gateway.address)
            victim.collect(quiet=0.3)  # each once the gateway is done with the last, as in the report
        return attack.count
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(BURST):
            forged.send(datagram, victim.address, gateway.address)
        count += BURST
        victim.collect(quiet=0.0)  # keep the victim's socket buffer drained
    victim.collect(quiet=1.0)
    return count


def forged_attacks(server: RunningServer, forged: ForgedUdp, seconds: float) -> list[Measurement]:
    measurements = []
    for number, each in enumerate(ATTACKS):
        with tempfile.TemporaryDirectory() as state, attacker(server, Path(state), each.signed) as (gateway, device):
            victim = UdpListener(f"127.0.0.{66 + number}", buffer_bytes=VICTIM_BUFFER)
            try:
                datagram = each.datagram(device)
                before = received(gateway)
                sent = forge(forged, datagram, victim, gateway, each, seconds)
                arrived = received(gateway) - before
                measurements.append(Measurement(each.name, sent, arrived, len(datagram), victim.bytes_received))
            finally:
                victim.close()
    return measurements


def proven_device(server: RunningServer) -> Measurement:
    with tempfile.TemporaryDirectory() as state, attacker(server, Path(state), signed=False) as (_, device):
        request = whole_raster(device)
        device.listener.datagrams.clear()
        device.transmit(request)
        device.await_raster()
        return Measurement(
            "for comparison: the device itself, proven, one RESEND for the whole raster",
            1,
            1,
            len(request),
            device.listener.bytes_received,
            proven=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each flood lasts")
    args = parser.parse_args()
    try:
        forged = open_forged_udp()
    except OSError as error:
        sys.exit(f"cannot open a raw socket to forge source addresses ({error}): run as root")
    with ExitStack() as stack, tempfile.TemporaryDirectory() as data:
        stack.callback(forged.close)
        settings = offline_settings(Path(data) / "data")
        server = RunningServer(settings, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
        stack.callback(server.stop)
        results = [*forged_attacks(server, forged, args.seconds), proven_device(server)]
    width = max(len(result.scenario) for result in results)
    print(
        f"{'attack':<{width}} {'sent':>7} {'received':>8} {'bytes received':>14} {'to victim':>9}"
        f" {'victim/received':>15}  target"
    )
    for result in results:
        target = "(proven)" if result.proven else f"≤ {TARGET:g}× {'met' if result.ratio <= TARGET else 'MISSED'}"
        print(
            f"{result.scenario:<{width}} {result.sent:>7} {result.received:>8} {result.received * result.size:>14}"
            f" {result.to_victim:>9} {result.ratio:>14.3f}×  {target}"
        )
    worst = max(result.ratio for result in results if not result.proven)
    verdict = "met" if worst <= TARGET else "MISSED"
    print(f"verdict: {verdict}: the most any unproven address got is {worst:.3f}× what reached the gateway in its name")


if __name__ == "__main__":
    main()
