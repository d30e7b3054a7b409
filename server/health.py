"""Health as grpc.health.v1 reports it: NOT_SERVING while storing fails, SERVING again once it works.

A failed write (a full disk, a database that went away, a bucket that cannot be reached) marks the
server NOT_SERVING at once, so a load balancer stops sending it uploads it cannot keep. Anything
that finds the storage failing may say so: a request's write, a worker, the PostgreSQL listener
losing its connection, a stage waiting for S3. From then on a probe tries a real write every
second; the first one that succeeds marks it SERVING again, with no restart.

grpc.health.v1 carries a status and no reason, so the reason goes to the log: a warning names what
the probe met each time that changes ("connection refused", "cannot reach S3 for bucket …"), and
every failed probe is logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from grpc_health.v1 import health, health_pb2

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
PROBE_INTERVAL_SECONDS = 1.0


class StorageHealth:
    """Owns the serving status of ``services``; ``write_failed`` may be called from any thread."""

    def __init__(
        self,
        servicer: health.aio.HealthServicer,
        services: Iterable[str],
        probe_write: Callable[[], None],
        loop: asyncio.AbstractEventLoop,
        interval: float = PROBE_INTERVAL_SECONDS,
    ) -> None:
        self.servicer = servicer
        self.services = ("", *services)
        self.probe_write = probe_write
        self.interval = interval
        self._loop = loop
        self._probing: asyncio.Task[None] | None = None

    async def serving(self) -> None:
        await self._set(SERVING)

    def write_failed(self) -> None:
        self._loop.call_soon_threadsafe(self._start_probing)

    def _start_probing(self) -> None:
        if self._probing is None or self._probing.done():
            self._probing = self._loop.create_task(self._probe_until_writable())

    async def _probe_until_writable(self) -> None:
        await self._set(NOT_SERVING)
        log.warning("storage cannot write: health is NOT_SERVING until a probe write succeeds")
        said = ""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await asyncio.to_thread(self.probe_write)
            except Exception as error:  # any failure means: not yet
                log.debug("storage probe failed: %s", error)
                # On one line: a driver's message may span several.
                why = " ".join(str(error).split()) or type(error).__name__
                if why != said:
                    log.warning("health is NOT_SERVING: %s", why)
                    said = why
                continue
            await self._set(SERVING)
            log.info("storage writes again: health is SERVING")
            return

    async def _set(self, status: int) -> None:
        for name in self.services:
            await self.servicer.set(name, status)

    async def stop(self) -> None:
        await self.servicer.enter_graceful_shutdown()
        if self._probing is not None:
            self._probing.cancel()
