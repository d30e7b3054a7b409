"""A real device gets its recording through a gateway process while another source floods it with
200 sessions re-sent continuously: the flood holds only its own quota and pays its own rate."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.gateway import GatewayProcess
from voxprint.clients.device_sim import SimulatedDevice, read_wav
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.protocol import Audio, AudioFlag, SampleFormat
from voxprint.v1 import voxprint_pb2

FLOOD_SESSIONS = 200
PLAYBACK_SPEED = 4.0


@contextmanager
def flooding(gateway: GatewayProcess) -> Iterator[list[int]]:
    """STARTs of FLOOD_SESSIONS sessions from one source, round and round until the block ends;
    yields a one-element list counting the datagrams sent."""
    starts = [
        protocol.encode(Audio(0xF100D, session, 0, 16_000, 1, SampleFormat.S16LE, bytes(1024), AudioFlag.START))
        for session in range(FLOOD_SESSIONS)
    ]
    sent = [0]
    stop = threading.Event()

    def flood() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flooder:
            while not stop.is_set():
                for datagram in starts:
                    flooder.sendto(datagram, gateway.address)
                sent[0] += len(starts)
                stop.wait(0.01)  # ~20000 STARTs a second: leave the machine's cores to the real work

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        yield sent
    finally:
        stop.set()
        thread.join()


@pytest.mark.slow
async def test_a_real_device_gets_its_printout_while_another_source_floods_the_gateway(
    server_factory, speech_wav: Path, tmp_path: Path
) -> None:
    server = server_factory()
    gateway = GatewayProcess(server.target, tmp_path / "gateway-state")
    try:
        with flooding(gateway) as sent:
            device = SimulatedDevice(gateway.address, speed=PLAYBACK_SPEED)
            result = await device.run(read_wav(speech_wav), timeout=120.0)
            metrics = gateway.scrape()
    finally:
        gateway.stop()

    assert result.state == voxprint_pb2.JOB_STATE_COMPLETED and result.raster is not None
    assert "penguin" in result.transcript.lower()
    assert sent[0] > 10 * FLOOD_SESSIONS
    # The flood really reached the gateway, and was held to its quota (loopback may lose some).
    assert metrics[("voxprint_gateway_sessions_evicted_total", ())] > FLOOD_SESSIONS / 2
    assert metrics[("voxprint_gateway_recordings_submitted_total", ())] == 1
