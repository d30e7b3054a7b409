"""Specification of the storage health monitor: NOT_SERVING from the first failed write for as long as
a probe write fails, SERVING again from the first probe that succeeds; read as grpc.health.v1 serves it."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from voxprint.server.health import StorageHealth

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICES = ("voxprint.v1.Voxprint",)
INTERVAL = 0.05


class Storage:
    """The probe write: fails while ``full``, counting every try."""

    def __init__(self) -> None:
        self.full = True
        self.tries = 0

    def probe_write(self) -> None:
        self.tries += 1
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")


class Monitored:
    def __init__(self, monitor: StorageHealth, stub: health_pb2_grpc.HealthStub, storage: Storage) -> None:
        self.monitor, self.stub, self.storage = monitor, stub, storage

    async def statuses(self) -> set[int]:
        """The status of the whole server ("") and of each service: one value when they agree."""
        replies = [await self.stub.Check(health_pb2.HealthCheckRequest(service=name)) for name in ("", *SERVICES)]
        return {reply.status for reply in replies}

    async def becomes(self, status: int, seconds: float = 5.0) -> float:
        """How long it took every service to report ``status``; fails after ``seconds``."""
        started = time.monotonic()
        while await self.statuses() != {status}:
            assert time.monotonic() - started < seconds, f"never became {status}"
            await asyncio.sleep(INTERVAL / 5)
        return time.monotonic() - started

    async def stays(self, status: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert await self.statuses() == {status}
            await asyncio.sleep(INTERVAL / 5)


async def monitor_on_a_server(interval: float) -> AsyncIterator[Monitored]:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        storage = Storage()
        monitor = StorageHealth(servicer, SERVICES, storage.probe_write, asyncio.get_running_loop(), interval)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                yield Monitored(monitor, health_pb2_grpc.HealthStub(channel), storage)
            finally:
                await monitor.stop()
    finally:
        await server.stop(None)


@pytest.fixture
async def monitored() -> AsyncIterator[Monitored]:
    async for monitored in monitor_on_a_server(INTERVAL):
        yield monitored


@pytest.fixture
async def serving(monitored: Monitored) -> Monitored:
    await monitored.monitor.serving()
    return monitored


async def test_serving_marks_the_server_and_every_service_serving(monitored):
    await monitored.monitor.serving()

    assert await monitored.statuses() == {SERVING}


async def test_a_failed_write_marks_the_server_and_every_service_not_serving(serving):
    serving.monitor.write_failed()

    await serving.becomes(NOT_SERVING)


async def test_health_stays_not_serving_while_probe_writes_fail(serving):
    serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)

    await serving.stays(NOT_SERVING, 10 * INTERVAL)
    assert serving.storage.tries >= 5


async def test_the_first_probe_write_that_succeeds_marks_it_serving_and_probing_stops(serving):
    serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)
    serving.storage.full = False

    await serving.becomes(SERVING)
    tries = serving.storage.tries
    await asyncio.sleep(5 * INTERVAL)
    assert serving.storage.tries == tries


async def test_a_probe_waits_one_interval_before_it_tries():
    async for slow in monitor_on_a_server(interval=0.5):
        await slow.monitor.serving()
        slow.storage.full = False
        slow.monitor.write_failed()

        assert await slow.becomes(SERVING) >= 0.4
        assert slow.storage.tries == 1


async def test_any_error_from_the_probe_means_not_yet(serving):
    def broken() -> None:
        serving.storage.tries += 1
        raise RuntimeError("the database went away")

    serving.monitor.probe_write = broken
    serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)

    await serving.stays(NOT_SERVING, 5 * INTERVAL)
    assert serving.storage.tries >= 2


async def test_many_failed_writes_at_once_start_one_probe(serving):
    for _ in range(5):
        serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)

    await asyncio.sleep(10 * INTERVAL)
    assert serving.storage.tries <= 11


async def test_a_write_fails_again_after_recovery_and_health_follows(serving):
    serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)
    serving.storage.full = False
    await serving.becomes(SERVING)
    serving.storage.full = True

    serving.monitor.write_failed()

    await serving.becomes(NOT_SERVING)


async def test_a_failed_write_may_be_reported_from_a_worker_thread(serving):
    worker = threading.Thread(target=serving.monitor.write_failed)
    worker.start()
    worker.join()

    await serving.becomes(NOT_SERVING)


async def test_stopping_reports_not_serving_and_ends_probing(serving):
    serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)

    await serving.monitor.stop()
    serving.storage.full = False
    tries = serving.storage.tries
    await asyncio.sleep(5 * INTERVAL)

    assert serving.storage.tries == tries
    assert await serving.statuses() == {NOT_SERVING}


async def test_stopping_a_serving_server_reports_not_serving(serving):
    await serving.monitor.stop()

    assert await serving.statuses() == {NOT_SERVING}


async def test_the_log_says_when_health_changes_and_why_each_probe_failed(serving, caplog):
    caplog.set_level(logging.DEBUG, logger="voxprint.server.health")
    serving.monitor.write_failed()
    await serving.becomes(NOT_SERVING)
    await asyncio.sleep(2 * INTERVAL)
    serving.storage.full = False
    await serving.becomes(SERVING)

    said = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert said[0] == ("WARNING", "storage cannot write: health is NOT_SERVING until a probe write succeeds")
    assert ("DEBUG", "storage probe failed: [Errno 28] No space left on device") in said
    assert said[-1] == ("INFO", "storage writes again: health is SERVING")
