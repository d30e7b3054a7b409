"""How to reach a voxprint server, in one place, for the sync and the asyncio client alike."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio

DEFAULT_TARGET = "127.0.0.1:50051"
MIB = 1024 * 1024


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

    @classmethod
    def from_env(cls, **overrides: object) -> ChannelConfig:
        """``VOXPRINT_SERVER``, ``VOXPRINT_TOKEN`` and ``VOXPRINT_TLS_CA`` (a PEM path), then overrides."""
        values: dict[str, object] = {}
        if server := os.environ.get("VOXPRINT_SERVER"):
            values["target"] = server
        if token := os.environ.get("VOXPRINT_TOKEN"):
            values["token"] = token
        if ca_path := os.environ.get("VOXPRINT_TLS_CA"):
            values["root_certificates"] = Path(ca_path).read_bytes()
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]

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

    def channel(self) -> grpc.Channel:
        credentials = self.credentials()
        if credentials is None:
            return grpc.insecure_channel(self.target, options=self.options())
        return grpc.secure_channel(self.target, credentials, options=self.options())

    def aio_channel(self) -> grpc.aio.Channel:
        credentials = self.credentials()
        if credentials is None:
            return grpc.aio.insecure_channel(self.target, options=self.options())
        return grpc.aio.secure_channel(self.target, credentials, options=self.options())


def as_config(config: ChannelConfig | str | None) -> ChannelConfig:
    """Accept a ready config, a bare ``host:port`` target, or None for the defaults."""
    if isinstance(config, ChannelConfig):
        return config
    return ChannelConfig(target=config) if config else ChannelConfig()
