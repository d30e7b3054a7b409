"""UDP datagrams with a forged source address, sent as an attacker on the network sends them: a raw
IPv4 socket and hand-built IPv4 and UDP headers. And a victim: a plain UDP socket that counts what
reaches it.

Raw sockets need root (CAP_NET_RAW). CI runs as root, so there a raw socket that cannot be opened
fails the test; a developer's unprivileged run skips it (``forged_udp`` in tests/support/gateway.py).
Only loopback addresses (127.0.0.0/8) are accepted, as source and as destination: nothing forged
ever leaves the machine.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from collections.abc import Callable

import pytest

Address = tuple[str, int]

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
_IPV4 = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")
_VERSION_4_HEADER_5_WORDS = 0x45
_TTL = 64
# Linux's SO_RCVBUFFORCE (SO_RCVBUF past net.core.rmem_max, for root), which Python does not name.
_SO_RCVBUFFORCE = 33


class ForgedUdp:
    """Sends UDP datagrams from any loopback address and port, whatever this process is bound to."""

    def __init__(self, raw: socket.socket) -> None:
        self._raw = raw
        self.bytes_sent = 0

    def send(self, payload: bytes, source: Address, destination: Address) -> None:
        """One datagram claiming to come from `source`; `bytes_sent` counts its UDP payload."""
        source_ip, destination_ip = _loopback(source[0]), _loopback(destination[0])
        length = _IPV4.size + _UDP.size + len(payload)
        # The kernel fills in the IP checksum and id; a UDP checksum of 0 means "none" in IPv4.
        ip = _IPV4.pack(
            _VERSION_4_HEADER_5_WORDS, 0, length, 0, 0, _TTL, socket.IPPROTO_UDP, 0, source_ip, destination_ip
        )
        udp = _UDP.pack(source[1], destination[1], _UDP.size + len(payload), 0)
        self._raw.sendto(ip + udp + payload, (destination[0], 0))
        self.bytes_sent += len(payload)

    def close(self) -> None:
        self._raw.close()


def _loopback(host: str) -> bytes:
    address = ipaddress.IPv4Address(host)
    if address not in LOOPBACK:
        raise ValueError(f"{host} is not a loopback address: forged datagrams stay on this machine")
    return address.packed


def open_forged_udp() -> ForgedUdp:
    """A raw socket ready to forge; OSError (usually PermissionError) without CAP_NET_RAW."""
    # IPPROTO_RAW implies IP_HDRINCL: the IPv4 header is ours, source address included.
    return ForgedUdp(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW))


def forged_udp_or_skip() -> ForgedUdp:
    """`open_forged_udp()`, failing the test if it cannot be opened as root, skipping it otherwise."""
    try:
        return open_forged_udp()
    except OSError as error:
        reason = f"cannot open a raw socket: {error}"
        if os.geteuid() == 0:
            pytest.fail(reason)
        pytest.skip(f"{reason} (needs root)")


class UdpListener:
    """A plain UDP socket on a loopback address of its own that keeps every datagram reaching it:
    a victim, or the receiving side of a device played by hand."""

    def __init__(self, host: str, *, buffer_bytes: int | None = None) -> None:
        """`buffer_bytes`: a receive buffer that large (as root, past the system's maximum), so a
        flood is counted whole instead of overflowing it."""
        _loopback(host)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if buffer_bytes is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, buffer_bytes)
        self.socket.bind((host, 0))
        self.socket.setblocking(False)
        self.address: Address = self.socket.getsockname()
        self.datagrams: list[bytes] = []

    @property
    def bytes_received(self) -> int:
        return sum(len(datagram) for datagram in self.datagrams)

    def collect(self, quiet: float = 0.5) -> None:
        """Keep what arrives until nothing has for `quiet` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            if self._receive():
                last = time.monotonic()

    def collect_until(self, done: Callable[[list[bytes]], bool], timeout: float = 30.0) -> None:
        """Keep what arrives until `done(datagrams)`; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done(self.datagrams):
            assert time.monotonic() < deadline, f"timed out after {len(self.datagrams)} datagrams"
            self._receive()

    def _receive(self) -> bool:
        try:
            self.datagrams.append(self.socket.recv(65536))
            return True
        except BlockingIOError:
            time.sleep(0.005)
            return False

    def close(self) -> None:
        self.socket.close()
