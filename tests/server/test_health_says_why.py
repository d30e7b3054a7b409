"""Why health is NOT_SERVING goes to the log (grpc.health.v1 has no field for it): one warning for
each new reason a probe meets, on one line however many lines the driver's message had."""

from __future__ import annotations

import asyncio
import logging

from grpc_health.v1 import health

from voxprint.server.health import StorageHealth

DATABASE_DOWN = 'connection failed: connection to server at "db", port 5432 failed: Connection refused\n\tIs it up?'
S3_DOWN = "cannot reach S3 for bucket 'media' (EndpointConnectionError)"


class Outage:
    """A probe that fails with each of ``reasons`` in turn, then writes."""

    def __init__(self, *reasons: str) -> None:
        self.reasons = list(reasons)

    def probe_write(self) -> None:
        if self.reasons:
            raise OSError(self.reasons.pop(0))


async def warnings_while(outage: Outage, caplog) -> list[str]:
    caplog.set_level(logging.INFO, logger="voxprint.server.health")
    monitor = StorageHealth(
        health.aio.HealthServicer(), ["voxprint.v1.Voxprint"], outage.probe_write, asyncio.get_running_loop(), 0.01
    )
    monitor.write_failed()
    while "storage writes again: health is SERVING" not in caplog.messages:
        await asyncio.sleep(0.01)
    await monitor.stop()
    return [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]


async def test_each_new_reason_is_logged_once_as_a_warning_on_one_line(caplog):
    said = await warnings_while(Outage(DATABASE_DOWN, DATABASE_DOWN, S3_DOWN, S3_DOWN, S3_DOWN), caplog)

    assert said == [
        "storage cannot write: health is NOT_SERVING until a probe write succeeds",
        'health is NOT_SERVING: connection failed: connection to server at "db", port 5432 failed:'
        " Connection refused Is it up?",
        f"health is NOT_SERVING: {S3_DOWN}",
    ]


async def test_a_reason_that_comes_back_is_said_again(caplog):
    said = await warnings_while(Outage(S3_DOWN, "disk full", S3_DOWN), caplog)

    assert said[1:] == [f"health is NOT_SERVING: {why}" for why in (S3_DOWN, "disk full", S3_DOWN)]
