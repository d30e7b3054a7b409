"""Path validation: a cookie echoed from the address it was sent to proves that address; an address
without that proof is sent no more bytes than it sent. Then the gateway process itself: a device
that moved pays for a fresh cookie with a padded QUERY, and only a proven ACK cancels a printout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.gateway import GatewayProcess, HandDevice
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import SessionKey
from voxprint.clients.gateway.path_validation import PathValidation, ReplyPath
from voxprint.clients.gateway.protocol import Ack, JobNotice, Query, RasterChunk, Resend

SESSION = SessionKey.framed(0xD1CE, 1)
DEVICE_ADDRESS = ("127.0.0.1", 40000)
ELSEWHERE = ("127.0.0.1", 40001)
UNREACHABLE_SERVER = "127.0.0.1:1"


def test_a_cookie_echoed_from_the_address_it_was_sent_to_proves_that_address() -> None:
    paths = PathValidation()
    cookie = paths.cookie(SESSION, DEVICE_ADDRESS)
    assert paths.request_path(SESSION, DEVICE_ADDRESS, cookie) == ReplyPath(DEVICE_ADDRESS, proven=True)


@pytest.mark.parametrize(("session", "address"), [(SESSION, ELSEWHERE), (SessionKey.framed(0xD1CE, 2), DEVICE_ADDRESS)])
def test_a_cookie_proves_nothing_for_another_address_or_session(session: SessionKey, address: tuple[str, int]) -> None:
    paths = PathValidation()
    cookie = paths.cookie(SESSION, DEVICE_ADDRESS)
    assert not paths.request_path(session, address, cookie).proven


def test_a_cookie_of_another_gateway_process_proves_nothing() -> None:
    cookie = PathValidation().cookie(SESSION, DEVICE_ADDRESS)
    assert not PathValidation().request_path(SESSION, DEVICE_ADDRESS, cookie).proven


def test_an_unproven_address_is_sent_no_more_bytes_than_it_sent() -> None:
    paths, path = PathValidation(), ReplyPath(ELSEWHERE)
    paths.received(ELSEWHERE, 30)
    paths.received(ELSEWHERE, 30)
    assert paths.may_send(path, 50) and paths.may_send(path, 10)
    assert not paths.may_send(path, 1)


def test_a_proven_path_is_sent_whatever_it_asks_for() -> None:
    assert PathValidation().may_send(ReplyPath(DEVICE_ADDRESS, proven=True), protocol.MAX_DATAGRAM_SIZE)


def test_a_forgotten_address_starts_again_with_nothing() -> None:
    paths = PathValidation(max_addresses=1)
    paths.received(DEVICE_ADDRESS, 1000)
    paths.received(ELSEWHERE, 1000)
    assert not paths.may_send(ReplyPath(DEVICE_ADDRESS), 1)


# The gateway process.


@pytest.fixture
def idle_gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    """A gateway whose server never answers: devices get their "recording arrived" notice only."""
    gateway = GatewayProcess(UNREACHABLE_SERVER, tmp_path / "gateway-state")
    yield gateway
    gateway.stop()


def notices(device: HandDevice) -> list[JobNotice]:
    return [reply for reply in device.replies() if isinstance(reply, JobNotice)]


@pytest.mark.slow
def test_a_device_that_moved_gets_a_fresh_cookie_for_a_padded_query_only(idle_gateway: GatewayProcess) -> None:
    before = HandDevice(idle_gateway.address)
    after = HandDevice(idle_gateway.address, host="127.0.0.2")  # the same device, behind a NAT that moved
    try:
        before.record()
        before.listener.collect_until(lambda datagrams: bool(datagrams), timeout=5.0)
        after.send(Query(after.device_id, after.session_id, before.cookie))
        after.listener.collect(quiet=0.3)
        assert notices(after) == []
        padding = protocol.MAX_DATAGRAM_SIZE - protocol.QUERY_SIZE
        after.send(Query(after.device_id, after.session_id, padding=padding))
        after.listener.collect_until(lambda datagrams: bool(datagrams), timeout=5.0)
        assert after.cookie != before.cookie
        after.send(Query(after.device_id, after.session_id, after.cookie))
        after.listener.collect_until(lambda datagrams: len(datagrams) == 2, timeout=5.0)
    finally:
        before.close()
        after.close()


@pytest.fixture
def printed_device(server_factory, tmp_path: Path) -> Iterator[HandDevice]:
    """A device holding its whole raster, not acknowledged yet."""
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    gateway = GatewayProcess(server.target, tmp_path / "gateway-state")
    device = HandDevice(gateway.address)
    try:
        device.record()
        device.prove()
        device.await_raster()
        yield device
    finally:
        device.close()
        gateway.stop()


def resent_chunks(device: HandDevice, cookie: bytes) -> list[int]:
    device.listener.datagrams.clear()
    device.send(Resend(device.device_id, device.session_id, (0,), cookie))
    device.listener.collect(quiet=0.3)
    return [reply.chunk_index for reply in device.replies() if isinstance(reply, RasterChunk)]


@pytest.mark.slow
def test_only_an_ack_carrying_the_cookie_of_its_address_cancels_the_printout(printed_device: HandDevice) -> None:
    device, cookie = printed_device, printed_device.cookie
    device.send(Ack(device.device_id, device.session_id))
    assert resent_chunks(device, cookie) == [0]
    device.send(Ack(device.device_id, device.session_id, cookie))
    assert resent_chunks(device, cookie) == []
