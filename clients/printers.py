"""Every kind of printer a printout can go to, and how it gets there.

A destination is one of:

* ``tcp://HOST[:PORT]`` — a network receipt printer's raw port (9100, "JetDirect", unless given),
  sent ESC/POS;
* a path — a character device such as ``/dev/usb/lp0``, or a plain file to keep the ESC/POS bytes
  for later (``cat job.bin > /dev/usb/lp0``);
* ``catprinter://AA:BB:CC:DD:EE:FF?model=GB01`` — a Bluetooth cat printer, and
  ``catprinter+file:///PATH?model=GB01`` — a file of the exact bytes it would receive
  (`voxprint.clients.catprinter.destination` has their options).

``parse_destination`` reads any of them, ``encode`` turns a raster into the bytes that destination
takes, ``deliver`` sends them. ``send`` is the blocking ESC/POS-only sender underneath.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from voxprint import rasterizer
from voxprint.clients import escpos
from voxprint.clients.catprinter import destination as catprinter_destination
from voxprint.clients.catprinter import protocol as catprinter_protocol
from voxprint.clients.catprinter import transport as catprinter_transport
from voxprint.clients.catprinter.destination import CatPrinter, CatPrinterFile
from voxprint.clients.printer_error import PrinterError
from voxprint.v1 import voxprint_pb2

__all__ = [
    "DEFAULT_TIMEOUT",
    "RAW_PRINT_PORT",
    "CatPrinter",
    "CatPrinterFile",
    "Destination",
    "EscPosOptions",
    "PathPrinter",
    "PrinterError",
    "TcpPrinter",
    "deliver",
    "encode",
    "parse_destination",
    "send",
]

RAW_PRINT_PORT = 9100
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class TcpPrinter:
    host: str
    port: int = RAW_PRINT_PORT
    language: ClassVar[str] = "ESC/POS"

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


@dataclass(frozen=True)
class PathPrinter:
    path: Path
    language: ClassVar[str] = "ESC/POS"

    def __str__(self) -> str:
        return str(self.path)


EscPosPrinter = TcpPrinter | PathPrinter
Destination = EscPosPrinter | CatPrinter | CatPrinterFile
#: What a printout is made from: a local raster, or the server's Fetch RAW answer (LSB-first).
Raster = rasterizer.Raster | voxprint_pb2.FetchResponse


@dataclass(frozen=True)
class EscPosOptions:
    """How an ESC/POS printer is driven (`escpos.encode`); cat printers carry their settings in
    their destination."""

    band_rows: int = escpos.DEFAULT_BAND_ROWS
    feed_lines: int = escpos.DEFAULT_FEED_LINES
    cut: bool = False


def parse_destination(text: str) -> Destination:
    """``tcp://printer.local``, ``tcp://10.0.0.7:9100``, ``tcp://[::1]:9100``, a path,
    ``catprinter://AA:BB:CC:DD:EE:FF?model=GB01`` or ``catprinter+file:///PATH?model=GB01``."""
    if "://" not in text:
        return PathPrinter(Path(text))
    url = urlsplit(text)
    if url.scheme in (catprinter_destination.SCHEME, catprinter_destination.FILE_SCHEME):
        return catprinter_destination.parse(text)
    if url.scheme != "tcp":
        raise PrinterError(
            f"unsupported printer address {text!r}: use tcp://HOST:PORT, a path, "
            "or catprinter://AA:BB:CC:DD:EE:FF?model=MODEL",
            "bad_destination",
        )
    try:
        port = url.port
    except ValueError as error:
        raise PrinterError(f"bad port in printer address {text!r}: {error}", "bad_destination") from None
    if not url.hostname or url.path not in ("", "/"):
        raise PrinterError(f"bad printer address {text!r}: expected tcp://HOST[:PORT]", "bad_destination")
    return TcpPrinter(url.hostname, port or RAW_PRINT_PORT)


def encode(raster: Raster, destination: Destination, escpos_options: EscPosOptions = EscPosOptions()) -> bytes:
    """The bytes ``destination`` prints ``raster`` from: cat printer commands or ESC/POS.
    Raises :class:`PrinterError` for a raster the printer cannot print (a cat printer's width)."""
    if isinstance(destination, CatPrinter | CatPrinterFile):
        if isinstance(raster, voxprint_pb2.FetchResponse):
            raster = rasterizer.Raster(raster.data, raster.width, raster.height, raster.bytes_per_row)
        return catprinter_protocol.encode(raster, destination.settings)
    return escpos.encode(
        raster, band_rows=escpos_options.band_rows, feed_lines=escpos_options.feed_lines, cut=escpos_options.cut
    )


async def deliver(data: bytes, destination: Destination, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Send what :func:`encode` made to ``destination``; raises :class:`PrinterError`.

    ``timeout`` bounds a network printer's connection and transfer; a cat printer has its own
    (`catprinter.transport.Timeouts`).
    """
    if isinstance(destination, CatPrinter):
        await catprinter_transport.send(data, destination.address, destination.settings.model)
    elif isinstance(destination, CatPrinterFile):
        await asyncio.to_thread(_write_path, data, destination.path, str(destination))
    else:
        await asyncio.to_thread(send, data, destination, timeout=timeout)


def send(data: bytes, destination: str | EscPosPrinter, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Write ESC/POS ``data`` to the printer, blocking; raises :class:`PrinterError` with a
    one-line reason."""
    target = parse_destination(destination) if isinstance(destination, str) else destination
    if isinstance(target, TcpPrinter):
        _send_tcp(data, target, timeout)
    elif isinstance(target, PathPrinter):
        _write_path(data, target.path, str(target))
    else:
        raise PrinterError(
            f"{target} is a cat printer: it takes cat printer commands, not ESC/POS (see printers.deliver)",
            "bad_destination",
        )


def _send_tcp(data: bytes, printer: TcpPrinter, timeout: float) -> None:
    try:
        with socket.create_connection((printer.host, printer.port), timeout=timeout) as connection:
            connection.sendall(data)
            # Half-close so the printer sees the end of the job before the connection goes.
            connection.shutdown(socket.SHUT_WR)
    except TimeoutError:
        raise PrinterError(f"printer {printer} did not respond within {timeout:g} s", "timeout") from None
    except OSError as error:
        raise PrinterError(f"cannot print to {printer}: {error.strerror or error}", "unreachable") from None


def _write_path(data: bytes, path: Path, name: str) -> None:
    try:
        with path.open("wb") as sink:
            sink.write(data)
    except OSError as error:
        raise PrinterError(f"cannot write to {name}: {error.strerror or error}", "write_failed") from None
