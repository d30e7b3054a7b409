"""voxprint-gateway: microcontrollers stream audio over UDP; the gateway turns it into jobs.

    voxprint-gateway --listen 0.0.0.0:6384 --server voxprint.lan:50051 --deliver udp

Datagrams on the fixed `--listen` port (loopback unless told otherwise) speak the framed protocol
(docs/udp-protocol.md); an optional `--raw-listen` port takes headerless ESPHome-style PCM keyed
by the sender's address.
Each assembled recording is wrapped as a WAV and submitted with a request id derived from device
and session under a secret of the gateway's (so a retried submit never makes a second job, and
nobody else can predict the id), retried with backoff while the server is unreachable, followed to
its end, and its raster delivered to every `--deliver` destination. Framed devices are told their
job id and state all along. Every source is rate limited, and an address that has not proven it
receives what is sent there gets no more bytes than it sent (path_validation.py); with
`--device-keys`, only devices that tag their datagrams with their secret are heard, each datagram
once (replay.py).

With `--wyoming-listen`, Home Assistant's voice satellites are heard too: the gateway serves the
Wyoming protocol (wyoming.py, docs/home-assistant.md) and prints at each satellite's printer
(`--printer-map`). `--listen off` leaves out UDP altogether.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import click

from voxprint.clients import (
    AsyncVoxprintClient,
    ChannelConfig,
    VoxprintError,
    has_picture,
    is_terminal,
)
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import (
    RAW_FORMAT,
    Address,
    Assembler,
    Limits,
    Recording,
    SessionKey,
)
from voxprint.clients.gateway.counters import Counters, log_periodically
from voxprint.clients.gateway.delivery import Delivery, Recipient, UdpDelivery, destinations
from voxprint.clients.gateway.device_keys import DeviceKeysError, load_device_keys
from voxprint.clients.gateway.metrics import MetricsServer, Stats
from voxprint.clients.gateway.path_validation import PathValidation, ReplyPath
from voxprint.clients.gateway.printer_map import PrinterMap, PrinterMapError, read_printer_map
from voxprint.clients.gateway.protocol import (
    Ack,
    Audio,
    DeviceKeys,
    JobFlag,
    JobNotice,
    ProtocolError,
    Query,
    Request,
    Resend,
    Signing,
)
from voxprint.clients.gateway.rate_limit import RateLimit, RateLimiter
from voxprint.clients.gateway.replay import ReplayGuard, ReplayStateError, SendCounter
from voxprint.clients.gateway.request_ids import SECRET_BYTES, RequestIds, SecretFileError, persistent_secret
from voxprint.clients.gateway.wyoming import DEFAULT_PORT as WYOMING_PORT
from voxprint.clients.gateway.wyoming import WyomingConfig, WyomingFront
from voxprint.clients.gateway.wyoming_jobs import WyomingJobs
from voxprint.clients.gateway.wyoming_phrases import WakePhrase
from voxprint.clients.printers import PrinterError
from voxprint.common.addresses import DEFAULT_SERVER_ADDRESS, split_host_port
from voxprint.common.backoff import RETRYABLE_CODES, Backoff, call_with_retries_async
from voxprint.v1 import voxprint_pb2

logger = logging.getLogger("voxprint.gateway")

DEFAULT_PORT = 6384
# Devices on other machines reach the gateway only once it is told to listen for them.
DEFAULT_LISTEN: Address = ("127.0.0.1", DEFAULT_PORT)
DEFAULT_STATE_DIR = Path("voxprint-gateway-state")
# A scrape waits at most this long for the event loop to read the counters.
SCRAPE_TIMEOUT = 5.0
NO_JOB = uuid.UUID(int=0)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How the gateway waits out a server that is down: the first and longest wait between tries
    (growing as :class:`~voxprint.common.backoff.Backoff` grows every wait), and when to give up."""

    first_delay: float = 0.5
    max_delay: float = 30.0
    # A recording still unsubmitted after this long is given up (and the device told).
    give_up_after: float = 900.0

    @property
    def backoff(self) -> Backoff:
        # Jitter keeps a fleet of gateways from hammering a restarting server in lockstep.
        return Backoff(
            attempts=None,
            initial_delay=self.first_delay,
            max_delay=self.max_delay,
            jitter=self.first_delay,
            give_up_after=self.give_up_after,
        )


@dataclass(frozen=True)
class GatewayConfig:
    # None: no UDP listener (a gateway for Wyoming clients only).
    listen: Address | None = DEFAULT_LISTEN
    raw_listen: Address | None = None
    deliver: tuple[str, ...] = ("udp",)
    limits: Limits = field(default_factory=Limits)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    # Device id → shared secret; None lets every device in, tagged or not.
    device_keys: DeviceKeys | None = None
    # Where the request id secret is kept; None = a fresh one per run (a replayed recording then
    # becomes a new job after a restart).
    state_dir: Path | None = None
    metrics_listen: Address | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Printer width in dots for the server's raster; None = the server's default.
    width: int | None = None
    job_timeout: float = 600.0
    chunk_size: int = 1024
    chunk_interval: float = 0.002
    # How long rasters and job notices are kept for devices that ask again, from when they were
    # made: asking again does not extend it.
    retention: float = 120.0
    max_backlog: int = 256
    # PCM held by recordings in flight; what a server outage can make the gateway keep.
    max_backlog_bytes: int = 128 * 1024 * 1024
    counters_interval: float = 60.0
    # Assembly bookkeeping period: bounds how late a finished recording is noticed.
    tick: float = 0.05
    # Home Assistant's voice satellites over the Wyoming protocol; None = not served.
    wyoming: WyomingConfig | None = None


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, receive: Callable[[bytes, Address], None], counters: Counters) -> None:
        self._receive = receive
        self._counters = counters

    def datagram_received(self, data: bytes, addr: Address) -> None:
        try:
            self._receive(data, addr)
        except Exception:
            # A bug met by one datagram is counted and logged here, with the sender, instead of
            # escaping into the event loop's generic handler.
            self._counters.incr("datagrams.dropped.internal_error")
            logger.exception("datagram from %s could not be handled", addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP "port unreachable" from a device that went away; nothing to do.
        logger.debug("UDP error: %s", exc)


@dataclass
class _Notice:
    # Its cookie is filled in for the address each copy is sent to.
    notice: JobNotice
    recipient: Recipient
    expires: float


class Gateway:
    """The running gateway; `start()` binds the ports, `close()` stops everything it started.

    Create it inside the event loop it will run on.
    """

    def __init__(self, config: GatewayConfig, client: AsyncVoxprintClient, counters: Counters | None = None) -> None:
        self.config = config
        self.counters = counters or Counters()
        self._client = client
        self._loop = asyncio.get_running_loop()
        self._assembler = Assembler(self.counters, config.limits)
        self._rate_limiter = RateLimiter(config.rate_limit)
        secret = persistent_secret(config.state_dir) if config.state_dir else secrets.token_bytes(SECRET_BYTES)
        self._request_ids = RequestIds(secret)
        self._paths = PathValidation()
        # Only tagged datagrams carry counters worth checking: with device keys, every one does.
        self._replays = ReplayGuard(config.state_dir) if config.device_keys is not None else None
        self._send_counter = SendCounter()
        self._udp = UdpDelivery(
            self._send,
            self.counters,
            self._loop.time,
            signing=self._signing,
            chunk_size=config.chunk_size,
            chunk_interval=config.chunk_interval,
            retention=config.retention,
        )
        self._deliveries: list[Delivery] = destinations(config.deliver, self._udp, self.counters)
        self._notices: dict[SessionKey, _Notice] = {}
        # Each recording in flight, with the bytes of PCM it holds.
        self._jobs: dict[asyncio.Task[None], int] = {}
        self._background: list[asyncio.Task[None]] = []
        self._framed: asyncio.DatagramTransport | None = None
        self._raw: asyncio.DatagramTransport | None = None
        self._metrics: MetricsServer | None = None
        self._wyoming = self._wyoming_front(config.wyoming) if config.wyoming else None

    def _wyoming_front(self, config: WyomingConfig) -> WyomingFront:
        # Satellites have no UDP device to print back to: without an entry of the printer map, they
        # print at the --deliver printers.
        printers = PrinterMap.build(
            config.printer_map,
            lambda specs: destinations(specs, self._udp, self.counters),
            [delivery for delivery in self._deliveries if delivery is not self._udp],
            self._udp,
        )
        if not printers.deliveries_for()[1]:
            logger.warning(
                "wyoming: no printer map default and no --deliver printer: unmapped satellites print nowhere"
            )
        settings = config.job_settings(width=self.config.width, job_timeout=self.config.job_timeout)
        jobs = WyomingJobs(
            self._client, printers, self._request_ids, self.deliver, self._retrying, self.counters, settings
        )
        return WyomingFront(config, jobs, self.config.limits, self.counters)

    @property
    def address(self) -> Address:
        """Where the framed port is bound (useful with port 0)."""
        assert self._framed is not None, "no UDP listener"
        return self._framed.get_extra_info("sockname")[:2]

    @property
    def raw_address(self) -> Address | None:
        return self._raw.get_extra_info("sockname")[:2] if self._raw else None

    @property
    def wyoming_address(self) -> Address | None:
        return self._wyoming.address if self._wyoming else None

    @property
    def metrics_address(self) -> Address | None:
        return self._metrics.address if self._metrics else None

    def _signing(self, device_id: int) -> Signing | None:
        """How a reply to `device_id` is tagged: with its secret, if it has one, and a new counter."""
        key = self.config.device_keys.get(device_id) if self.config.device_keys else None
        return Signing(key, self._send_counter.next()) if key is not None else None

    async def start(self) -> None:
        if self.config.listen is not None:
            self._framed = await self._bind(self.config.listen, self.receive_framed)
        if self.config.raw_listen is not None:
            self._raw = await self._bind(self.config.raw_listen, self.receive_raw)
        if self._wyoming is not None:
            await self._wyoming.start()
            logger.info("wyoming on tcp://%s:%d (asr and handle)", *self._wyoming.address)
        if self.config.metrics_listen is not None:
            self._metrics = MetricsServer(self.config.metrics_listen, self._stats_from_another_thread)
            logger.info("metrics on http://%s:%d/metrics", *self._metrics.address)
        self._background = [
            asyncio.create_task(self._housekeeping()),
            asyncio.create_task(log_periodically(self.counters, self.config.counters_interval, logger)),
        ]
        logger.info(
            "listening on %s%s; delivering to %s",
            "udp {}:{}".format(*self.address) if self._framed else "no framed udp",
            f", raw PCM on udp {self.raw_address[0]}:{self.raw_address[1]}" if self.raw_address else "",
            ", ".join(d.name for d in self._deliveries),
        )

    async def close(self) -> None:
        if self._metrics is not None:
            await asyncio.to_thread(self._metrics.close)
        if self._wyoming is not None:
            await self._wyoming.close()
        for transport in (self._framed, self._raw):
            if transport is not None:
                transport.close()
        tasks = [*self._background, *self._jobs]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._udp.close()
        logger.info("counters: %s", self.counters.format())

    async def _bind(self, address: Address, receive: Callable[[bytes, Address], None]) -> asyncio.DatagramTransport:
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _Endpoint(receive, self.counters), local_addr=address
        )
        return transport

    def receive_framed(self, data: bytes, address: Address) -> None:
        self.counters.incr("datagrams.received")
        if not self._within_rate(address):
            return
        try:
            message = protocol.decode(data, self.config.device_keys)
        except ProtocolError as error:
            self.counters.incr(f"datagrams.dropped.{error.reason.value}")
            logger.debug("dropped datagram from %s: %s", address, error)
            return
        if self._replays is not None and not self._replays.take(message.device_id, protocol.counter(data)):
            self.counters.incr("datagrams.dropped.replayed")
            return
        self._paths.received(address, len(data))
        if isinstance(message, Audio):
            self._assembler.add(message, address, self._loop.time())
        elif isinstance(message, Resend):
            self._udp.resend(message, self._request_path(message, address))
        elif isinstance(message, Query):
            self._answer(message, self._request_path(message, address))
        elif isinstance(message, Ack):
            self._acknowledge(message, self._request_path(message, address))
        else:
            self.counters.incr("datagrams.dropped.wrong_direction")

    def receive_raw(self, data: bytes, address: Address) -> None:
        self.counters.incr("datagrams.received_raw")
        if not self._within_rate(address):
            return
        if len(data) > protocol.MAX_DATAGRAM_SIZE:
            self.counters.incr(f"datagrams.dropped.{protocol.DropReason.OVERSIZED.value}")
        elif not data or len(data) % RAW_FORMAT.frame_size:
            self.counters.incr(f"datagrams.dropped.{protocol.DropReason.MISALIGNED.value}")
        else:
            self._assembler.add_raw(data, address, self._loop.time())

    def _within_rate(self, address: Address) -> bool:
        # Checked before decoding: a flood costs one dictionary lookup per datagram.
        if self._rate_limiter.allow(address, self._loop.time()):
            return True
        self.counters.incr("datagrams.dropped.rate_limited")
        return False

    async def _stats(self) -> Stats:
        return Stats(self.counters.snapshot(), self._assembler.open_sessions)

    def _stats_from_another_thread(self) -> Stats:
        # The metrics server's thread reads the counters on the event loop, never while it counts.
        return asyncio.run_coroutine_threadsafe(self._stats(), self._loop).result(SCRAPE_TIMEOUT)

    def _send(self, datagram: bytes, path: ReplyPath) -> bool:
        """Send `datagram` on `path`, unless the path is unproven and over its budget."""
        if not self._paths.may_send(path, len(datagram)):
            self.counters.incr("replies.withheld")
            return False
        # Replies leave from the fixed listening port: the one a device's firewall already allows.
        assert self._framed is not None, "replies go only to framed devices, which only the framed port hears"
        self._framed.sendto(datagram, path.address)
        return True

    def _request_path(self, request: Request, address: Address) -> ReplyPath:
        return self._paths.request_path(
            SessionKey.framed(request.device_id, request.session_id), address, request.cookie
        )

    def _send_notice(self, notice: JobNotice, path: ReplyPath) -> bool:
        """Send `notice` on `path`, with the cookie that proves `path`'s address when echoed."""
        cookie = self._paths.cookie(SessionKey.framed(notice.device_id, notice.session_id), path.address)
        return self._send(protocol.encode(replace(notice, cookie=cookie), self._signing(notice.device_id)), path)

    def _answer(self, query: Query, path: ReplyPath) -> None:
        kept = self._notices.get(SessionKey.framed(query.device_id, query.session_id))
        if kept is None:
            self.counters.incr("queries.unknown_session")
            return
        if path.proven:
            kept.recipient.path.move(path.address)
        if self._send_notice(kept.notice, path):
            self.counters.incr("queries.answered")

    def _acknowledge(self, ack: Ack, path: ReplyPath) -> None:
        # Unproven, an ACK could come from anyone who knows the ids: it would cancel the printout.
        if not path.proven:
            self.counters.incr("acks.unproven")
            return
        self._udp.acknowledge(SessionKey.framed(ack.device_id, ack.session_id))

    def _notify(
        self,
        recipient: Recipient | None,
        job_id: uuid.UUID,
        state: int,
        text: str = "",
        *,
        error: bool = False,
        picture_expected: bool = True,
    ) -> None:
        if recipient is None:
            return
        flags = JobFlag.NONE
        if error:
            flags |= JobFlag.TEXT_IS_ERROR
        if picture_expected and self._udp in self._deliveries:
            flags |= JobFlag.RASTER_FOLLOWS
        notice = JobNotice(recipient.device_id, recipient.session_id, job_id, state, text, flags)
        self._notices[recipient.key] = _Notice(notice, recipient, self._loop.time() + self.config.retention)
        if self._send_notice(notice, recipient.path):
            self.counters.incr("notices.sent")

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick)
            recordings = self._assembler.collect(self._loop.time())
            if self._replays is not None and recordings:
                # Before any of them becomes a job: a restarted gateway must not take them again.
                self._replays.keep()
            for recording in recordings:
                self._start_job(recording)
            self._udp.expire()
            now = self._loop.time()
            for key in [key for key, kept in self._notices.items() if kept.expires <= now]:
                del self._notices[key]

    def _start_job(self, recording: Recording) -> None:
        held = sum(self._jobs.values()) + len(recording.pcm)
        if len(self._jobs) >= self.config.max_backlog or held > self.config.max_backlog_bytes:
            self.counters.incr("recordings.dropped.backlog")
            return
        task = asyncio.create_task(self._run_job(recording))
        self._jobs[task] = len(recording.pcm)
        task.add_done_callback(self._job_done)

    def _job_done(self, task: asyncio.Task[None]) -> None:
        self._jobs.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            self.counters.incr("jobs.crashed")
            logger.error("recording handling crashed", exc_info=task.exception())

    async def _run_job(self, recording: Recording) -> None:
        key = recording.key
        recipient = (
            Recipient(key.device_id, key.session, ReplyPath(recording.address)) if key.device_id is not None else None
        )
        logger.info(
            "recording %s/%x: %.2f s, %d datagrams lost, ended by %s",
            key.device,
            key.session,
            recording.duration,
            recording.missing_datagrams,
            recording.ended_by.value,
        )
        self._notify(recipient, NO_JOB, voxprint_pb2.JOB_STATE_UNSPECIFIED)
        try:
            job = await self._submit(recording)
            job = await self._retrying("watch", lambda: self._follow(recipient, job))
            if not has_picture(job):
                self.counters.incr("deliveries.skipped.no_picture")
                return
            raster = await self._retrying("fetch", lambda: self._client.fetch(job.id, "raw"))
        except VoxprintError as error:
            self.counters.incr("jobs.failed")
            logger.warning("recording %s/%x: %s", key.device, key.session, error)
            self._notify(
                recipient, NO_JOB, voxprint_pb2.JOB_STATE_FAILED, error.message, error=True, picture_expected=False
            )
            return
        await self.deliver(self._deliveries, recipient, job, raster)

    async def deliver(
        self,
        deliveries: list[Delivery],
        recipient: Recipient | None,
        job: voxprint_pb2.Job,
        raster: voxprint_pb2.FetchResponse,
    ) -> None:
        """Send a finished job's raster to each of `deliveries`."""
        for delivery in deliveries:
            try:
                await delivery.deliver(recipient, job, raster)
            except Exception:
                # One broken printer must not stop the others, nor the gateway.
                self.counters.incr("deliveries.failed")
                logger.exception("job %s: delivery to %s failed", job.id, delivery.name)

    async def _submit(self, recording: Recording) -> voxprint_pb2.Job:
        key = recording.key
        job = await self._retrying(
            "submit",
            lambda: self._client.submit(
                recording.wav(),
                request_id=self._request_ids.for_session(key),
                filename=f"{key.device.replace(':', '-')}-{key.session:x}.wav",
                width=self.config.width,
            ),
        )
        self.counters.incr("submits.accepted")
        logger.info("recording %s/%x is job %s", key.device, key.session, job.id)
        return job

    async def _follow(self, recipient: Recipient | None, job: voxprint_pb2.Job) -> voxprint_pb2.Job:
        """Tell the device about every state change until the job is terminal."""
        async for event in self._client.watch(job.id, timeout=self.config.job_timeout):
            job = event.job
            if is_terminal(job) and job.error:
                self._notify(recipient, uuid.UUID(job.id), job.state, job.error, error=True, picture_expected=False)
            else:
                self._notify(recipient, uuid.UUID(job.id), job.state, job.transcript)
        return job

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]], backoff: Backoff | None = None) -> T:
        """`call`, retried while the server is unreachable: for `backoff`, or the gateway's policy."""
        return await call_with_retries_async(
            call,
            backoff=backoff or self.config.retry.backoff,
            is_transient=lambda error: isinstance(error, VoxprintError) and error.code in RETRYABLE_CODES,
            describe=what,
            on_retry=lambda: self.counters.incr(f"retries.{what}"),
        )


def parse_address(text: str) -> Address:
    """ "HOST:PORT" or "[IPv6]:PORT" → (host, port), as a command-line value."""
    try:
        return split_host_port(text)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


async def serve(config: GatewayConfig, channel: ChannelConfig) -> None:
    """Run a gateway until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncVoxprintClient(channel) as client:
        gateway = Gateway(config, client)
        await gateway.start()
        try:
            await stop.wait()
        finally:
            await gateway.close()


def _address_option(value: str | None) -> Address | None:
    return parse_address(value) if value else None


def _wyoming_config(
    listen: str | None, printer_map: Path | None, wake_phrase: str | None, max_connections: int, idle_timeout: float
) -> WyomingConfig | None:
    if listen is None:
        if printer_map is not None or wake_phrase is not None:
            raise click.UsageError("--printer-map and --wake-phrase are for satellites: add --wyoming-listen")
        return None
    try:
        mapped = read_printer_map(printer_map) if printer_map else None
    except PrinterMapError as error:
        raise click.BadParameter(str(error), param_hint="--printer-map") from None
    return WyomingConfig(
        # Wyoming services are written as URIs (tcp://HOST:PORT); a bare HOST:PORT is taken too.
        listen=parse_address(listen.removeprefix("tcp://")),
        printer_map=mapped,
        wake=WakePhrase.parse(wake_phrase),
        max_connections=max_connections,
        idle_timeout=idle_timeout,
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "VOXPRINT_GATEWAY"})
@click.option(
    "--listen",
    default="{}:{}".format(*DEFAULT_LISTEN),
    show_default=True,
    help="UDP HOST:PORT for devices speaking the framed protocol (docs/udp-protocol.md); "
    f"0.0.0.0:{DEFAULT_PORT} to hear devices on the network (read 'Exposing the port' there first). "
    "Fixed, so a firewall or container can open exactly this port. 'off': no UDP listener.",
)
@click.option(
    "--raw-listen",
    metavar="HOST:PORT",
    help="Also take headerless 16 kHz 16-bit mono PCM here (ESPHome-style firmware); "
    "a recording is everything one sender sends until it is silent.",
)
@click.option(
    "--server",
    envvar="VOXPRINT_SERVER",
    default=DEFAULT_SERVER_ADDRESS,
    show_default=True,
    help="voxprint server HOST:PORT [env VOXPRINT_SERVER].",
)
@click.option("--token", envvar="VOXPRINT_TOKEN", help="Bearer token [env VOXPRINT_TOKEN].")
@click.option(
    "--tls-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM root certificate: connect to the server over TLS.",
)
@click.option(
    "--deliver",
    multiple=True,
    default=["udp"],
    show_default=True,
    help="Where printouts go; repeat for several: 'udp' (back to the device), "
    "tcp://HOST[:9100] (ESC/POS network printer), catprinter://ADDRESS?model=MODEL (Bluetooth cat "
    "printer), a directory (one <job-id>.escpos file per job) or a file / device such as /dev/usb/lp0.",
)
@click.option(
    "--wyoming-listen",
    metavar="tcp://HOST:PORT",
    envvar="VOXPRINT_GATEWAY_WYOMING_LISTEN",
    help="Serve Home Assistant's voice satellites here, over the Wyoming protocol (programs 'handle' "
    f"and 'asr'; docs/home-assistant.md), e.g. tcp://0.0.0.0:{WYOMING_PORT} [env VOXPRINT_GATEWAY_WYOMING_LISTEN]; "
    "default: off.",
)
@click.option(
    "--printer-map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of 'SATELLITE-OR-DEVICE-ID DESTINATION' lines ('default DESTINATION' for the rest): "
    "where each satellite's pictures print. Default: the --deliver printers.",
)
@click.option(
    "--wake-phrase",
    metavar="PHRASE[,PHRASE...]",
    help="Draw only what satellites say starting with one of these, e.g. 'draw,print' (stripped before "
    "drawing); the rest is answered as not handled. Default: draw every phrase.",
)
@click.option(
    "--wyoming-max-connections",
    type=click.IntRange(1),
    default=WyomingConfig.max_connections,
    show_default=True,
    help="Wyoming connections served at once; more are refused with an error event.",
)
@click.option(
    "--wyoming-idle-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=WyomingConfig.idle_timeout,
    show_default=True,
    help="Seconds a Wyoming connection may go without sending a whole event before it is closed.",
)
@click.option("--width", type=int, help="Printer width in dots (384 = 58 mm, 576 = 80 mm); default: the server's.")
@click.option(
    "--silence-timeout",
    type=float,
    default=Limits.silence_timeout,
    show_default=True,
    help="Seconds of silence that end a recording without END flag.",
)
@click.option(
    "--max-seconds", type=float, default=Limits.max_seconds, show_default=True, help="Longer recordings are dropped."
)
@click.option(
    "--max-sessions",
    type=click.IntRange(1),
    default=Limits.max_sessions,
    show_default=True,
    help="Recordings assembled at once; when full, the idlest unfinished one makes room.",
)
@click.option(
    "--max-sessions-per-source",
    type=click.IntRange(1),
    default=Limits.max_sessions_per_endpoint,
    show_default=True,
    help="Recordings assembled at once per source address and port (one device).",
)
@click.option(
    "--max-sessions-per-address",
    type=click.IntRange(1),
    default=Limits.max_sessions_per_address,
    show_default=True,
    help="Recordings assembled at once per source address (a site behind one NAT address).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=RateLimit.rate,
    show_default=True,
    help="Datagrams a second each source address and port may send, sustained.",
)
@click.option(
    "--rate-burst",
    type=click.FloatRange(min=1),
    default=RateLimit.burst,
    show_default=True,
    help="Datagrams a source may send at once above --rate-limit.",
)
@click.option(
    "--device-keys",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of 'DEVICE_ID SECRET' lines (hex): only devices tagging their datagrams with their "
    "secret are heard (docs/udp-protocol.md). Default: every device, tagged or not.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Keeps the secret request ids are derived from, so a recording replayed after a restart maps to the same job.",
)
@click.option(
    "--metrics-listen",
    metavar="HOST:PORT",
    envvar="VOXPRINT_GATEWAY_METRICS_LISTEN",
    help="Serve Prometheus /metrics here [env VOXPRINT_GATEWAY_METRICS_LISTEN]; default: off.",
)
@click.option(
    "--counters-interval", type=float, default=60.0, show_default=True, help="Seconds between counter log lines."
)
@click.option("-v", "--verbose", is_flag=True, help="Log every dropped datagram.")
def main(
    listen: str,
    raw_listen: str | None,
    server: str,
    token: str | None,
    tls_ca: Path | None,
    deliver: tuple[str, ...],
    wyoming_listen: str | None,
    printer_map: Path | None,
    wake_phrase: str | None,
    wyoming_max_connections: int,
    wyoming_idle_timeout: float,
    width: int | None,
    silence_timeout: float,
    max_seconds: float,
    max_sessions: int,
    max_sessions_per_source: int,
    max_sessions_per_address: int,
    rate_limit: float,
    rate_burst: float,
    device_keys: Path | None,
    state_dir: Path,
    metrics_listen: str | None,
    counters_interval: float,
    verbose: bool,
) -> None:
    """Receive recordings from microcontrollers over UDP and print what they said."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        keys = load_device_keys(device_keys) if device_keys else None
    except DeviceKeysError as error:
        raise click.BadParameter(str(error), param_hint="--device-keys") from None
    wyoming = _wyoming_config(wyoming_listen, printer_map, wake_phrase, wyoming_max_connections, wyoming_idle_timeout)
    if listen == "off" and wyoming is None and raw_listen is None:
        raise click.UsageError("--listen off leaves nothing to listen on: add --wyoming-listen or --raw-listen")
    config = GatewayConfig(
        listen=None if listen == "off" else parse_address(listen),
        raw_listen=_address_option(raw_listen),
        deliver=deliver,
        limits=Limits(
            silence_timeout=silence_timeout,
            max_seconds=max_seconds,
            max_sessions=max_sessions,
            max_sessions_per_endpoint=max_sessions_per_source,
            max_sessions_per_address=max_sessions_per_address,
        ),
        rate_limit=RateLimit(rate=rate_limit, burst=rate_burst),
        device_keys=keys,
        state_dir=state_dir,
        metrics_listen=_address_option(metrics_listen),
        width=width,
        counters_interval=counters_interval,
        wyoming=wyoming,
    )
    channel = ChannelConfig(target=server, token=token, root_certificates=tls_ca.read_bytes() if tls_ca else None)
    try:
        asyncio.run(serve(config, channel))
    except (PrinterError, OSError, SecretFileError, ReplayStateError) as error:
        raise click.ClickException(str(error)) from None


if __name__ == "__main__":
    main()
