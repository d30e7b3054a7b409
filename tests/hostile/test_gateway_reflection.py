"""The gateway is no amplifier: datagrams forged with a third party's source address make it send
that party at most as many bytes as were forged, whatever they ask for, and a request naming a
chunk many times brings it once.

A real gateway process in front of a real server; the attacker is a device with a finished job it
never acknowledges, which echoes its own cookie in the requests it forges. The forged datagrams come
from a raw socket (root), and the third party is a socket of its own on another loopback address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.gateway import GatewayProcess, HandDevice
from tests.support.raw_udp import ForgedUdp, UdpListener
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.protocol import Query, RasterChunk, Resend

VICTIM_HOST = "127.0.0.66"
FORGERIES = 3


@pytest.fixture
def gateway(server_factory, tmp_path: Path) -> Iterator[GatewayProcess]:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    gateway = GatewayProcess(server.target, tmp_path / "gateway-state")
    yield gateway
    gateway.stop()


@pytest.fixture
def attacker(gateway: GatewayProcess) -> Iterator[HandDevice]:
    """A device whose job is done and whose raster it holds whole, never acknowledged."""
    device = HandDevice(gateway.address)
    device.record()
    device.prove()
    device.await_raster()
    yield device
    device.close()


@pytest.fixture
def victim() -> Iterator[UdpListener]:
    listener = UdpListener(VICTIM_HOST)
    yield listener
    listener.close()


def forge(forged_udp: ForgedUdp, message: protocol.Message, victim: UdpListener, gateway: GatewayProcess) -> None:
    """`message` FORGERIES times in the victim's name, each once the gateway is done with the last."""
    for _ in range(FORGERIES):
        forged_udp.send(protocol.encode(message), victim.address, gateway.address)
        victim.collect(quiet=0.3)


@pytest.mark.slow
def test_forged_resends_send_a_third_party_no_more_bytes_than_were_forged(
    gateway: GatewayProcess, attacker: HandDevice, victim: UdpListener, forged_udp: ForgedUdp
) -> None:
    forge(forged_udp, Resend(attacker.device_id, attacker.session_id, cookie=attacker.cookie), victim, gateway)
    assert victim.bytes_received <= forged_udp.bytes_sent


@pytest.mark.slow
def test_forged_queries_send_a_third_party_no_more_bytes_than_were_forged(
    gateway: GatewayProcess, attacker: HandDevice, victim: UdpListener, forged_udp: ForgedUdp
) -> None:
    forge(forged_udp, Query(attacker.device_id, attacker.session_id, attacker.cookie), victim, gateway)
    assert victim.bytes_received <= forged_udp.bytes_sent


@pytest.mark.slow
def test_a_resend_naming_one_chunk_over_and_over_gets_it_once(attacker: HandDevice) -> None:
    request = Resend(attacker.device_id, attacker.session_id, (0,) * protocol.MAX_RESEND_INDICES, attacker.cookie)
    attacker.listener.datagrams.clear()
    attacker.send(request)
    attacker.listener.collect(quiet=0.5)
    assert [reply.chunk_index for reply in attacker.replies() if isinstance(reply, RasterChunk)] == [0]
