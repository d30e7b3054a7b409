"""Deliver a finished ESC/POS byte stream to a printer.

A destination is either ``tcp://HOST[:PORT]`` — a network receipt printer's raw port (9100,
"JetDirect", unless given) — or a path: a character device such as ``/dev/usb/lp0`` or a plain
file to keep the bytes for later (``cat job.bin > /dev/usb/lp0``).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

RAW_PRINT_PORT = 9100
DEFAULT_TIMEOUT = 10.0


class PrinterError(Exception):
    """The bytes could not be delivered; the message says where and why, in one line."""


@dataclass(frozen=True)
class TcpPrinter:
    host: str
    port: int = RAW_PRINT_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


@dataclass(frozen=True)
class PathPrinter:
    path: Path

    def __str__(self) -> str:
        return str(self.path)


Destination = TcpPrinter | PathPrinter


def parse_destination(text: str) -> Destination:
    """``tcp://printer.local``, ``tcp://10.0.0.7:9100``, ``tcp://[::1]:9100`` or a path."""
    if "://" not in text:
        return PathPrinter(Path(text))
    url = urlsplit(text)
    if url.scheme != "tcp":
        raise PrinterError(f"unsupported printer address {text!r}: use tcp://HOST:PORT or a path")
    try:
        port = url.port
    except ValueError as error:
        raise PrinterError(f"bad port in printer address {text!r}: {error}") from None
    if not url.hostname or url.path not in ("", "/"):
        raise PrinterError(f"bad printer address {text!r}: expected tcp://HOST[:PORT]")
    return TcpPrinter(url.hostname, port or RAW_PRINT_PORT)


def send(data: bytes, destination: str | Destination, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Write ``data`` to the printer; raises :class:`PrinterError` with a one-line reason."""
    target = parse_destination(destination) if isinstance(destination, str) else destination
    if isinstance(target, TcpPrinter):
        _send_tcp(data, target, timeout)
    else:
        _write_path(data, target)


def _send_tcp(data: bytes, printer: TcpPrinter, timeout: float) -> None:
    try:
        with socket.create_connection((printer.host, printer.port), timeout=timeout) as connection:
            connection.sendall(data)
            # Half-close so the printer sees the end of the job before the connection goes.
            connection.shutdown(socket.SHUT_WR)
    except TimeoutError:
        raise PrinterError(f"printer {printer} did not respond within {timeout:g} s") from None
    except OSError as error:
        raise PrinterError(f"cannot print to {printer}: {error.strerror or error}") from None


def _write_path(data: bytes, printer: PathPrinter) -> None:
    try:
        with printer.path.open("wb") as sink:
            sink.write(data)
    except OSError as error:
        raise PrinterError(f"cannot write to {printer}: {error.strerror or error}") from None
