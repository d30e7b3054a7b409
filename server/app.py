"""Assembling a running server: store, media, backends, workers and the gRPC endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import uuid
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from voxprint import rasterizer
from voxprint.common.addresses import split_host_port
from voxprint.server.auth import Tenants, tenants_from_environment
from voxprint.server.config import Settings
from voxprint.server.events import JobEvents
from voxprint.server.extras import POSTGRES, needs_extra
from voxprint.server.health import StorageHealth
from voxprint.server.illustrators import Illustrator, create_illustrator
from voxprint.server.jobs import Jobs
from voxprint.server.logs import set_replica
from voxprint.server.media import Media, PatientMedia, open_media
from voxprint.server.messages import job_to_proto
from voxprint.server.metrics import Metrics
from voxprint.server.pipeline import Pipeline
from voxprint.server.reflection import enable_reflection
from voxprint.server.replica import Replica
from voxprint.server.service import SERVICE_NAME, VoxprintService
from voxprint.server.store import DatabaseAccess, JobQueue, JobStore, open_database
from voxprint.server.store.database import redacted
from voxprint.server.transcribers import Transcriber, create_transcriber
from voxprint.server.workers import WorkerPool

log = logging.getLogger(__name__)

# A raster or PNG goes out in one message: generous. What comes in is small (audio arrives in
# chunks), and grpc buffers a whole message before any token is checked, so the receive limit is
# what an unauthenticated caller can make us hold per stream.
MAX_SEND_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024
# Streams one connection may have open at once; more wait in the client. Enough for a gateway's
# watchers (the service benchmark opens 1000 on one channel), a bound on what one connection holds.
MAX_STREAMS_PER_CONNECTION = 1024
# Request headers in all (the token, the user agent, ...): grpc's default soft limit, made hard.
MAX_METADATA_BYTES = 8 * 1024
# What the health probe writes to the media storage to learn that it has room again.
PROBE_BYTES = 4096


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
        """Open the store, resume this replica's unfinished jobs, start serving; returns the bound port.

        The address, the TLS files and the tokens are checked first, so a server that could never
        serve stops at once, in one line, before it touches the database.
        """
        settings = self.settings
        tenants = tenants_from_environment()
        credentials = tls_credentials(settings.tls_cert, settings.tls_key) if settings.tls_cert else None
        if reason := bind_failure(settings.listen):
            raise OSError(f"cannot listen on {settings.listen}: {reason}")
        # What start opens, closed in reverse by stop, or at once if start fails half-way (a test
        # or an embedding program that retries must not find the data dir locked by a dead start).
        self._opened = contextlib.ExitStack()
        try:
            return await self._open_and_serve(tenants, credentials)
        except BaseException:
            self._opened.close()
            raise

    async def _open_and_serve(self, tenants: Tenants, credentials: grpc.ServerCredentials | None) -> int:
        settings = self.settings
        self.replica = Replica(settings.data_dir)
        self._opened.callback(self.replica.close)
        set_replica(self.replica.id)
        database_url = settings.resolved_database_url
        connection_label = f"voxprint {self.replica.id}"
        self.access = DatabaseAccess(
            open_database(database_url, pool_size=settings.db_pool_size, application_name=connection_label)
        )
        self._opened.callback(self.access.close)
        self.store = JobStore(self.access)
        # The workers wait up to a lease for a database that is restarting: what they hold is
        # written once it is back (requests, on self.access, answer UNAVAILABLE at once instead).
        self.queue = JobQueue(self.access.patient(settings.lease_seconds), self.replica.id, settings.lease_seconds)
        self.metrics = Metrics(queued=self.store.count_queued)
        self._opened.callback(self.metrics.close)
        media = open_media(settings.media_url, settings.media_dir)
        # Made before what reports to it (the listener, the stages, the workers, the requests); it
        # answers through the gRPC server once that exists.
        health_servicer = health.aio.HealthServicer()
        self.health = StorageHealth(
            health_servicer, [SERVICE_NAME], lambda: self._probe_write(media), asyncio.get_running_loop()
        )
        events = JobEvents(asyncio.get_running_loop())
        if self.access.postgres:
            # psycopg is the optional 'postgres' extra: the listener is imported only on PostgreSQL.
            with needs_extra(POSTGRES, error=ValueError):
                from voxprint.server.events.postgres import PostgresChangeListener
            listener = PostgresChangeListener(
                database_url,
                connection_label,
                events,
                self.store.get_many,
                job_to_proto,
                on_lost=self.health.write_failed,
            )
            self._opened.callback(listener.stop)
            await asyncio.to_thread(listener.start)
        pipeline = Pipeline(
            self.queue,
            # A stage waits out an S3 outage instead of failing its job (and says so to health).
            PatientMedia(media, on_unavailable=self.health.write_failed),
            self.transcriber,
            self.illustrator,
            on_change=lambda job: events.publish(job_to_proto(job)),
            metrics=self.metrics,
        )
        # A worker's failed write (a full disk, a lost database) marks the server unhealthy too.
        self.workers = WorkerPool(self.queue, pipeline, settings.workers, on_error=self.health.write_failed)

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
            ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_SEND_MESSAGE_BYTES),
            ("grpc.max_concurrent_streams", MAX_STREAMS_PER_CONNECTION),
            ("grpc.max_metadata_size", MAX_METADATA_BYTES),
            ("grpc.absolute_max_metadata_size", MAX_METADATA_BYTES),
            # Without this a second server could bind the same port and take half the requests.
            ("grpc.so_reuseport", 0),
        ]
        # Calls are counted first, so refused ones are counted too.
        self.server = grpc.aio.server(options=options, interceptors=[self.metrics.interceptor()])
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, self.server)
        jobs = Jobs(settings, self.store, media, on_write_failure=self.health.write_failed, tenants=tenants.count)
        self.service = VoxprintService(jobs, events, tenants, self.metrics, on_submitted=self.workers.notify)
        self.server.add_generic_rpc_handlers((self.service.handlers(),))
        enable_reflection((SERVICE_NAME, health.SERVICE_NAME), self.server)
        self.port = self._listen(credentials)
        await self.server.start()
        self.workers.start()
        await self.health.serving()
        if settings.metrics_listen:
            self.metrics_port = self.metrics.serve(settings.metrics_listen)
            log.info(
                "metrics on http://%s/metrics", settings.metrics_listen.rsplit(":", 1)[0] + f":{self.metrics_port}"
            )
        log.info(
            "voxprint listening on %s (%s%s)",
            settings.listen.rsplit(":", 1)[0] + f":{self.port}",
            "TLS" if settings.tls_cert else "plaintext",
            ", token required" if tenants.required else "",
        )
        return self.port

    def _probe_write(self, media: Media) -> None:
        """Raises unless both the database and the media storage can take a write now."""
        self.access.probe_write()
        key = f"probe/{uuid.uuid4()}"
        media.put(key, bytes(PROBE_BYTES))
        media.delete(key)

    def _listen(self, credentials: grpc.ServerCredentials | None) -> int:
        """Bind the listening address, with TLS when there are ``credentials``.

        grpc's own failure says only "Failed to bind"; the operating system says why.
        """
        listen = self.settings.listen
        try:
            if credentials is None:
                return self.server.add_insecure_port(listen)
            return self.server.add_secure_port(listen, credentials)
        except RuntimeError:
            raise OSError(f"cannot listen on {listen}: {bind_failure(listen) or 'grpc cannot bind it'}") from None

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking requests, let running stages finish for up to ``grace`` s, close the store."""
        await self.health.stop()
        await self.server.stop(grace)
        await asyncio.to_thread(self.service.close)
        finished = await asyncio.to_thread(self.workers.stop, grace)
        if not finished:
            log.warning("stopping with jobs mid-stage; they resume on the next start")
        await asyncio.to_thread(self._opened.close)
        log.info("voxprint stopped")

    async def wait(self) -> None:
        await self.server.wait_for_termination()


def tls_credentials(cert: Path, key: Path | None) -> grpc.ServerCredentials:
    """Server credentials from PEM files, checked first: grpc itself only says "Failed to bind"."""
    assert key is not None  # checked as a pair in VoxprintServer.__init__
    try:
        cert_pem, key_pem = cert.read_bytes(), key.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read TLS file {error.filename}: {error.strerror}") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_verify_locations(cadata=cert_pem.decode("ascii", errors="replace"))
    except ssl.SSLError:
        raise ValueError(f"TLS certificate {cert} is not a PEM certificate") from None
    try:
        # An empty passphrase: a key that needs one fails here instead of prompting on a terminal.
        context.load_cert_chain(cert, key, password=b"")
    except ssl.SSLError as error:
        if error.reason == "KEY_VALUES_MISMATCH":
            raise ValueError(f"TLS key {key} does not belong to the certificate {cert}") from None
        raise ValueError(f"TLS key {key} is not a PEM private key without a passphrase") from None
    return grpc.ssl_server_credentials([(key_pem, cert_pem)])


def bind_failure(listen: str) -> str | None:
    """Why ``listen`` (HOST:PORT) cannot be bound now, e.g. "address already in use"; None if it can.

    The probe socket allows reuse of an address in TIME_WAIT, as grpc does, so a restart on the
    same port is not refused; a port another process listens on still is.
    """
    try:
        host, port = split_host_port(listen)
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, ValueError):
        return None  # not a HOST:PORT this probe understands; grpc will judge it
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return (error.strerror or str(error)).lower()
    return None
