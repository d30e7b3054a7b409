"""Where a finished printout goes: back to the device over UDP, to a printer, or to disk.

A gateway has one or more destinations (`--deliver`), each a `Delivery`:

* "udp" — `UdpDelivery`: the Fetch RAW raster, cut into numbered RASTER chunks sent on the
  device's reply path (path_validation.py). The device asks again (RESEND) for chunks it missed
  and ACKs when whole; the gateway keeps each raster for `retention` seconds from its delivery or
  until ACKed, and resends its chunks `resend_rounds` times over at most. docs/udp-protocol.md.
* "tcp://HOST[:PORT]" or a file/character device — `PrinterDelivery`: ESC/POS bytes;
  "catprinter://ADDRESS?model=…" — `PrinterDelivery`: a Bluetooth cat printer (its bytes in a
  file with "catprinter+file:///PATH?model=…"). docs/printers.md.
* an existing directory — `DirectoryDelivery`: one ESC/POS file per job, `<job-id>.escpos`.

Printers count what they print and why they failed: `deliveries.escpos.sent`,
`deliveries.catprinter.failed.no_paper`, ... (the reasons are `PrinterError.reason`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voxprint.clients import escpos, printers
from voxprint.clients.gateway.assembler import SessionKey
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.path_validation import ReplyPath
from voxprint.clients.gateway.protocol import (
    MAX_RASTER_PAYLOAD,
    RasterChunk,
    Resend,
    Signing,
    encode,
    raster_crc32,
)
from voxprint.v1 import voxprint_pb2

logger = logging.getLogger(__name__)

# Sends a datagram on a path; False if it was withheld (an unproven path over its budget).
SendDatagram = Callable[[bytes, ReplyPath], bool]
# How a datagram to a device is tagged (a fresh counter each time), or None to send it untagged.
SigningFor = Callable[[int], Signing | None]


def untagged(device_id: int) -> None:
    return None


@dataclass(frozen=True)
class Recipient:
    """The framed device a printout belongs to, and the path its replies take."""

    device_id: int
    session_id: int
    path: ReplyPath

    @property
    def key(self) -> SessionKey:
        return SessionKey.framed(self.device_id, self.session_id)


class Delivery(Protocol):
    name: str

    async def deliver(
        self, recipient: Recipient | None, job: voxprint_pb2.Job, raster: voxprint_pb2.FetchResponse
    ) -> None:
        """Send the raster on; `recipient` is None for raw-mode devices (no protocol to reply)."""


@dataclass
class _Transfer:
    recipient: Recipient
    job_id: uuid.UUID
    raster: voxprint_pb2.FetchResponse
    chunk_count: int
    crc32: int
    # Fixed at delivery: asking again never keeps a raster retransmittable for longer.
    expires: float
    # Chunks it may still resend, in all.
    resends_left: int
    # One resend at a time: a stream of RESENDs must not multiply the chunks the gateway sends.
    resending: bool = False


class UdpDelivery:
    name = "udp"

    def __init__(
        self,
        send: SendDatagram,
        counters: Counters,
        clock: Callable[[], float],
        *,
        signing: SigningFor = untagged,
        chunk_size: int = 1024,
        chunk_interval: float = 0.002,
        retention: float = 120.0,
        resend_rounds: int = 4,
    ) -> None:
        if not 1 <= chunk_size <= MAX_RASTER_PAYLOAD:
            raise ValueError(f"chunk size must be 1..{MAX_RASTER_PAYLOAD} bytes")
        self._send = send
        self._counters = counters
        self._clock = clock
        self._signing = signing
        self._chunk_size = chunk_size
        # Microcontrollers have a handful of receive buffers: a burst would overrun them.
        self._chunk_interval = chunk_interval
        self._retention = retention
        # Each raster's chunks may be resent this many times over: plenty for a lossy link, and a
        # bound on what one raster can ever cost.
        self._resend_rounds = resend_rounds
        self._transfers: dict[SessionKey, _Transfer] = {}
        self._resending: set[asyncio.Task[None]] = set()

    async def deliver(
        self, recipient: Recipient | None, job: voxprint_pb2.Job, raster: voxprint_pb2.FetchResponse
    ) -> None:
        if recipient is None:
            self._counters.incr("deliveries.udp.skipped_raw_device")
            return
        count = max(1, math.ceil(len(raster.data) / self._chunk_size))
        transfer = _Transfer(
            recipient,
            uuid.UUID(job.id),
            raster,
            count,
            raster_crc32(raster.data),
            self._clock() + self._retention,
            self._resend_rounds * count,
        )
        self._transfers[recipient.key] = transfer
        await self._send_chunks(transfer, range(count), recipient.path)
        self._counters.incr("deliveries.udp.sent")

    def resend(self, request: Resend, path: ReplyPath) -> None:
        """Answer a device's RESEND on `path`, the address it came from: a proven one becomes the
        session's reply path, an unproven one gets only what its budget allows."""
        transfer = self._transfers.get(SessionKey.framed(request.device_id, request.session_id))
        if transfer is None:
            self._counters.incr("resends.unknown_session")
            return
        if path.proven:
            transfer.recipient.path.move(path.address)
        if transfer.resending:
            self._counters.incr("resends.dropped_busy")
            return
        # A chunk named twice is sent once: repeats would multiply what one request brings back.
        wanted = list(dict.fromkeys(i for i in request.chunk_indices if i < transfer.chunk_count))
        indices = wanted if request.chunk_indices else list(range(transfer.chunk_count))
        if len(indices) > transfer.resends_left:
            self._counters.incr("resends.over_limit")
            return
        transfer.resends_left -= len(indices)
        self._counters.incr("resends.requests")
        self._counters.incr("resends.chunks", len(indices))
        transfer.resending = True
        task = asyncio.create_task(self._send_chunks(transfer, indices, path))
        self._resending.add(task)
        task.add_done_callback(lambda done: self._resent(done, transfer))

    def acknowledge(self, key: SessionKey) -> None:
        if self._transfers.pop(key, None) is not None:
            self._counters.incr("deliveries.udp.acknowledged")

    async def close(self) -> None:
        for task in list(self._resending):
            task.cancel()
        await asyncio.gather(*self._resending, return_exceptions=True)

    def _resent(self, task: asyncio.Task[None], transfer: _Transfer) -> None:
        self._resending.discard(task)
        transfer.resending = False
        if not task.cancelled() and task.exception() is not None:
            logger.error("resending raster chunks failed", exc_info=task.exception())

    def expire(self) -> None:
        """Forget rasters nobody asked about for `retention` seconds."""
        now = self._clock()
        for key in [key for key, t in self._transfers.items() if t.expires <= now]:
            del self._transfers[key]
            self._counters.incr("deliveries.udp.unacknowledged")

    def _chunk(self, transfer: _Transfer, index: int) -> bytes:
        """Chunk `index` as a datagram, encoded when sent: a tagged one carries a fresh counter."""
        recipient, raster = transfer.recipient, transfer.raster
        chunk = RasterChunk(
            recipient.device_id,
            recipient.session_id,
            transfer.job_id,
            raster.width,
            raster.height,
            raster.bytes_per_row,
            self._chunk_size,
            index,
            transfer.chunk_count,
            transfer.crc32,
            raster.data[index * self._chunk_size : (index + 1) * self._chunk_size],
        )
        return encode(chunk, self._signing(recipient.device_id))

    async def _send_chunks(self, transfer: _Transfer, indices: range | list[int], path: ReplyPath) -> None:
        for index in indices:
            if self._send(self._chunk(transfer, index), path):
                self._counters.incr("chunks.sent")
            await asyncio.sleep(self._chunk_interval)


class PrinterDelivery:
    """A printer: ESC/POS to a network printer (tcp://HOST:PORT) or a file / character device, or
    a Bluetooth cat printer (or its bytes to a file). One printout at a time: a cat printer takes
    one connection, and two jobs' bytes interleaved would print neither."""

    def __init__(self, destination: printers.Destination, counters: Counters) -> None:
        self.name = str(destination)
        self._destination = destination
        self._counters = counters
        self._kind = (
            "catprinter" if isinstance(destination, printers.CatPrinter | printers.CatPrinterFile) else "escpos"
        )
        self._one_at_a_time = asyncio.Lock()

    async def deliver(
        self, recipient: Recipient | None, job: voxprint_pb2.Job, raster: voxprint_pb2.FetchResponse
    ) -> None:
        try:
            data = printers.encode(raster, self._destination)
            async with self._one_at_a_time:
                await printers.deliver(data, self._destination)
        except printers.PrinterError as error:
            self._counters.incr(f"deliveries.{self._kind}.failed.{error.reason}")
            raise
        self._counters.incr(f"deliveries.{self._kind}.sent")


class DirectoryDelivery:
    """A spool directory: `<job-id>.escpos` per job, written atomically (temp file + rename),
    with the permissions any program's new file would get (0644 under the usual umask)."""

    def __init__(self, directory: Path, counters: Counters) -> None:
        self.name = str(directory)
        self._directory = directory
        self._counters = counters
        self._mode = 0o666 & ~_umask()

    async def deliver(
        self, recipient: Recipient | None, job: voxprint_pb2.Job, raster: voxprint_pb2.FetchResponse
    ) -> None:
        await asyncio.to_thread(self._write, f"{job.id}.escpos", escpos.encode(raster))
        self._counters.incr("deliveries.directory.written")

    def _write(self, name: str, data: bytes) -> None:
        with tempfile.NamedTemporaryFile(dir=self._directory, prefix=".", suffix=".tmp", delete=False) as temporary:
            try:
                temporary.write(data)
                temporary.flush()
                # NamedTemporaryFile creates files readable by their owner only; a spool is for others.
                os.chmod(temporary.name, self._mode)
                os.replace(temporary.name, self._directory / name)
            except BaseException:
                # A full disk or a failed rename leaves no half-written temp file in the spool.
                os.unlink(temporary.name)
                raise


def _umask() -> int:
    # Reading the umask means setting it; done once at start, before any writer thread runs.
    current = os.umask(0o022)
    os.umask(current)
    return current


def destinations(specs: list[str] | tuple[str, ...], udp: UdpDelivery, counters: Counters) -> list[Delivery]:
    """`--deliver` values: "udp", "tcp://HOST[:PORT]", "catprinter://ADDRESS?model=MODEL",
    "catprinter+file:///PATH?model=MODEL", a directory, or a file / device path."""
    chosen: list[Delivery] = []
    for spec in specs:
        if spec == "udp":
            chosen.append(udp)
        elif "://" not in spec and Path(spec).is_dir():
            chosen.append(DirectoryDelivery(Path(spec), counters))
        else:
            chosen.append(PrinterDelivery(printers.parse_destination(spec), counters))
    return chosen
