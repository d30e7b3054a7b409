"""How to reach a voxprint server, in one place, for the sync and the asyncio client alike."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import grpc
import grpc.aio

from voxprint.common.addresses import DEFAULT_SERVER_ADDRESS as DEFAULT_TARGET

MIB = 1024 * 1024
#: gRPC's port when a target names none.
DEFAULT_TLS_PORT = 443

Transport = Literal["tls", "plaintext"]


@dataclass(frozen=True)
class ChannelConfig:
    """Everything about the connection; build a channel with :meth:`channel` or :meth:`aio_channel`.

    ``token`` is sent as ``authorization: Bearer <token>`` metadata on every call (per call rather
    than as channel credentials, so it also works on plaintext loopback channels).
    """

    target: str = DEFAULT_TARGET
    #: PEM root certificates to trust; set (or ``tls=True`` for the system roots) to use TLS.
    root_certificates: bytes | None = None
    tls: bool = False
    token: str | None = None
    #: Deadline in seconds for unary calls and uploads; None = no deadline. Watch streams are
    #: long-lived and only bounded by the caller's own timeout.
    timeout: float | None = 30.0
    #: HTTP/2 keepalive ping interval in seconds; None = off. gRPC servers by default refuse
    #: pings more often than every 5 minutes (and answer with GOAWAY "too_many_pings"), so the
    #: default stays at that floor; lower it only for a server that permits it.
    keepalive_time: float | None = 300.0
    keepalive_timeout: float = 20.0
    #: Fetch answers carry a whole PNG or raster in one message; gRPC's 4 MiB default is too small
    #: for large pictures.
    max_receive_message_bytes: int = 64 * MIB
    max_send_message_bytes: int = 8 * MIB
    #: Send the token without TLS to a host other than this machine, where anyone on the way can
    #: read it. Off: such a channel is refused with :class:`TokenWouldLeak`.
    allow_plaintext_token: bool = False

    @classmethod
    def from_env(cls, **overrides: Any) -> ChannelConfig:
        """``VOXPRINT_SERVER``, ``VOXPRINT_TOKEN`` (or ``VOXPRINT_TOKEN_FILE``) and ``VOXPRINT_TLS_CA``
        (a PEM path), then overrides."""
        values: dict[str, Any] = {}
        if server := os.environ.get("VOXPRINT_SERVER"):
            values["target"] = server
        if token_file := os.environ.get("VOXPRINT_TOKEN_FILE"):
            values["token"] = read_token_file(Path(token_file))
        if token := os.environ.get("VOXPRINT_TOKEN"):
            values["token"] = token
        if ca_path := os.environ.get("VOXPRINT_TLS_CA"):
            values["root_certificates"] = Path(ca_path).read_bytes()
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @property
    def uses_tls(self) -> bool:
        return self.tls or self.root_certificates is not None

    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def options(self) -> Sequence[tuple[str, int]]:
        options = [
            ("grpc.max_receive_message_length", self.max_receive_message_bytes),
            ("grpc.max_send_message_length", self.max_send_message_bytes),
        ]
        if self.keepalive_time is not None:
            options += [
                ("grpc.keepalive_time_ms", int(self.keepalive_time * 1000)),
                ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout * 1000)),
            ]
        return options

    def credentials(self) -> grpc.ChannelCredentials | None:
        return grpc.ssl_channel_credentials(self.root_certificates) if self.uses_tls else None

    def check_token_transport(self) -> None:
        """Refuse to send the token in the clear beyond this machine, unless allowed."""
        if self.token and not self.uses_tls and not self.allow_plaintext_token and not _is_local(self.target):
            raise TokenWouldLeak(
                f"the token would cross the network unencrypted to {self.target}: use TLS (--tls or --tls-ca), "
                "or allow it with --allow-plaintext-token"
            )

    def channel(self) -> grpc.Channel:
        self.check_token_transport()
        credentials = self.credentials()
        if credentials is None:
            return grpc.insecure_channel(self.target, options=self.options())
        return grpc.secure_channel(self.target, credentials, options=self.options())

    def aio_channel(self) -> grpc.aio.Channel:
        self.check_token_transport()
        credentials = self.credentials()
        if credentials is None:
            return grpc.aio.insecure_channel(self.target, options=self.options())
        return grpc.aio.secure_channel(self.target, credentials, options=self.options())


class TokenWouldLeak(ValueError):
    """A token would go without TLS to another machine, where anyone on the way could read it."""


def read_token_file(path: Path) -> str:
    """The token in ``path``: its first line, without surrounding white space."""
    lines = path.read_text().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ValueError(f"the token file {path} is empty")
    return token


def _is_local(target: str) -> bool:
    """Whether ``target`` is this machine: a loopback address, localhost, or not TCP at all (unix:)."""
    address = _host_and_port(target)
    if address is None:
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def as_config(config: ChannelConfig | str | None) -> ChannelConfig:
    """Accept a ready config, a bare ``host:port`` target, or None for the defaults."""
    if isinstance(config, ChannelConfig):
        return config
    return ChannelConfig(target=config) if config else ChannelConfig()


HTTP2_FRAME_HEADER_BYTES = 9
HTTP2_SETTINGS = 0x04
TLS_ALERT, TLS_HANDSHAKE = 0x15, 0x16
TLS_MAJOR_VERSION = 0x03
#: A gRPC target naming a TCP address, with the resolver prefix it may carry.
TCP_TARGET = re.compile(r"(?:dns:(?://[^/]*/)?|ipv4:|ipv6:)?(?P<host>\[[^\]]+\]|[^:/\[\]]+)(?::(?P<port>\d+))?")


def probe_transport(target: str, timeout: float = 2.0) -> Transport | None:
    """Whether the server at ``target`` speaks TLS or plaintext HTTP/2; None when it cannot tell.

    gRPC reports a client and server that disagree about TLS only as a closed socket or a failed
    handshake, so this asks the server directly: it sends a TLS ClientHello and reads the first
    bytes back. A TLS server answers with a TLS record (ServerHello or alert); a plaintext HTTP/2
    server has already sent its connection preface, a SETTINGS frame, before reading anything.
    """
    address = _host_and_port(target)
    if address is None:
        return None
    try:
        with socket.create_connection(address, timeout=timeout) as connection:
            connection.sendall(_client_hello(address[0]))
            reply = _read_at_least(connection, HTTP2_FRAME_HEADER_BYTES)
    except OSError:
        return None
    if _is_tls_record(reply):
        return "tls"
    if _is_http2_settings_frame(reply):
        return "plaintext"
    return None


def _host_and_port(target: str) -> tuple[str, int] | None:
    """``host[:port]``, ``[::1]:port``, ``dns:///host:port``; None for unix sockets and the like."""
    match = TCP_TARGET.fullmatch(target)
    if match is None:
        return None
    return match["host"].strip("[]"), int(match["port"] or DEFAULT_TLS_PORT)


def _client_hello(host: str) -> bytes:
    """The bytes Python's own TLS stack opens a handshake with (nothing is ever verified)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    handshake = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname=host)
    try:
        handshake.do_handshake()
    except ssl.SSLWantReadError:  # it wants the ServerHello, which we never feed it
        pass
    return outgoing.read()


def _read_at_least(connection: socket.socket, size: int) -> bytes:
    reply = b""
    while len(reply) < size and (chunk := connection.recv(4096)):
        reply += chunk
    return reply


def _is_tls_record(data: bytes) -> bool:
    return len(data) >= 2 and data[0] in (TLS_ALERT, TLS_HANDSHAKE) and data[1] == TLS_MAJOR_VERSION


def _is_http2_settings_frame(data: bytes) -> bool:
    if len(data) < HTTP2_FRAME_HEADER_BYTES:
        return False
    stream_id = int.from_bytes(data[5:9], "big") & 0x7FFF_FFFF
    return data[3] == HTTP2_SETTINGS and stream_id == 0
