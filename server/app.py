"""Assembling a running server: store, media, backends, workers and the gRPC endpoints."""

from __future__ import annotations

import asyncio
import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

import rasterizer
from server.auth import BearerTokenInterceptor, token_from_environment
from server.config import Settings
from server.events import JobEvents
from server.events.postgres import PostgresChangeListener
from server.illustrators import Illustrator, create_illustrator
from server.media import open_media
from server.messages import job_to_proto
from server.pipeline import Pipeline
from server.replica import Replica
from server.service import VoxprintService
from server.store import DatabaseAccess, JobQueue, JobStore, open_database
from server.store.database import redacted
from server.transcribers import Transcriber, create_transcriber
from server.workers import WorkerPool
from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = voxprint_pb2.DESCRIPTOR.services_by_name["Voxprint"].full_name
# Audio arrives in chunks, but a raster or PNG goes out in one message; allow generous sizes.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class VoxprintServer:
    """One server process's worth of voxprint. ``start`` and ``stop`` run on the event loop."""

    def __init__(
        self, settings: Settings, *, transcriber: Transcriber | None = None, illustrator: Illustrator | None = None
    ) -> None:
        if (settings.tls_cert is None) != (settings.tls_key is None):
            raise ValueError("TLS needs both a certificate (--tls-cert) and its private key (--tls-key)")
        self.settings = settings
        self.transcriber = transcriber or create_transcriber(settings)
        self.illustrator = illustrator or create_illustrator(settings)
        self.port: int | None = None

    async def start(self) -> int:
        """Open the store, resume this replica's unfinished jobs, start serving; returns the bound port."""
        settings = self.settings
        self.replica = Replica(settings.data_dir)
        database_url = settings.resolved_database_url
        connection_label = f"voxprint {self.replica.id}"
        self.access = DatabaseAccess(
            open_database(database_url, pool_size=settings.db_pool_size, application_name=connection_label)
        )
        self.store = JobStore(self.access)
        self.queue = JobQueue(self.access, self.replica.id, settings.lease_seconds)
        media = open_media(settings.media_url, settings.media_dir)
        events = JobEvents(asyncio.get_running_loop())
        self.listener = None
        if self.access.postgres:
            self.listener = PostgresChangeListener(
                database_url, connection_label, events, self.store.get, job_to_proto
            )
            await asyncio.to_thread(self.listener.start)
        pipeline = Pipeline(
            self.queue,
            media,
            self.transcriber,
            self.illustrator,
            on_change=lambda job: events.publish(job_to_proto(job)),
        )
        self.workers = WorkerPool(self.queue, pipeline, settings.workers)

        resumed = await asyncio.to_thread(self.queue.release_own_claims)
        unfinished = await asyncio.to_thread(self.store.count_unfinished)
        log.info(
            "replica %s; database %s; media %s",
            self.replica.id,
            redacted(database_url),
            media.url,
        )
        log.info(
            "speech-to-text: %s; images: %s; rasterizer: %s",
            self.transcriber.name,
            self.illustrator.name,
            rasterizer.implementation,
        )
        log.info("%d unfinished job(s) in the queue (%d of them resumed from this replica)", unfinished, resumed)

        options = [
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
        token = token_from_environment()
        interceptors = [BearerTokenInterceptor(token)] if token else []
        self.server = grpc.aio.server(options=options, interceptors=interceptors)
        self.service = VoxprintService(settings, self.store, media, events, on_submitted=self.workers.notify)
        voxprint_pb2_grpc.add_VoxprintServicer_to_server(self.service, self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection((SERVICE_NAME, reflection.SERVICE_NAME, health.SERVICE_NAME), self.server)
        self.port = self._listen()
        if not self.port:
            raise OSError(f"cannot listen on {settings.listen}")
        await self.server.start()
        self.workers.start()
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "voxprint listening on %s (%s%s)",
            settings.listen.rsplit(":", 1)[0] + f":{self.port}",
            "TLS" if settings.tls_cert else "plaintext",
            ", token required" if token else "",
        )
        return self.port

    def _listen(self) -> int:
        cert, key = self.settings.tls_cert, self.settings.tls_key
        if cert is None and key is None:
            return self.server.add_insecure_port(self.settings.listen)
        assert cert is not None and key is not None  # checked as a pair in __init__
        credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
        return self.server.add_secure_port(self.settings.listen, credentials)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking requests, let running stages finish for up to ``grace`` s, close the store."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.service.close()
        finished = await asyncio.to_thread(self.workers.stop, grace)
        if not finished:
            log.warning("stopping with jobs mid-stage; they resume on the next start")
        if self.listener is not None:
            await asyncio.to_thread(self.listener.stop)
        self.access.close()
        self.replica.close()
        log.info("voxprint stopped")

    async def wait(self) -> None:
        await self.server.wait_for_termination()
