"""Python clients for voxprint: a sync and an asyncio gRPC client, ESC/POS encoding, printers.

from voxprint.clients import VoxprintClient

with VoxprintClient("127.0.0.1:50051") as client:
    job = client.wait(client.submit("kitchen.wav").id, timeout=60)
    print(job.transcript)
    raster = client.fetch(job.id, "raw")
"""

import os

# grpc's documented default verbosity, which its C core reads once, when grpc is first imported:
# without it grpc 1.8x prints INFO lines (e.g. a TLS handshake failing against a plaintext server)
# to stderr before the caller's own one-line error. Set GRPC_VERBOSITY yourself to see them.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

from voxprint.common.enums import (  # noqa: E402 - after the verbosity above, which must precede grpc's import
    Dither,
    Format,
    JobState,
    enum_label,
    has_picture,
    is_terminal,
    parse_dither,
    parse_format,
    parse_state,
)

from ._watch import ResumePolicy
from .aio import AsyncVoxprintClient
from .channel import DEFAULT_TARGET, ChannelConfig, TokenWouldLeak
from .client import VoxprintClient
from .errors import (
    Cancelled,
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    NotReady,
    PermissionDenied,
    TooLarge,
    Unauthenticated,
    Unavailable,
    VoxprintError,
)

__all__ = [
    "DEFAULT_TARGET",
    "AsyncVoxprintClient",
    "Cancelled",
    "ChannelConfig",
    "DeadlineExceeded",
    "Dither",
    "Format",
    "InvalidArgument",
    "JobState",
    "NotFound",
    "NotReady",
    "PermissionDenied",
    "ResumePolicy",
    "TokenWouldLeak",
    "TooLarge",
    "Unauthenticated",
    "Unavailable",
    "VoxprintClient",
    "VoxprintError",
    "enum_label",
    "has_picture",
    "is_terminal",
    "parse_dither",
    "parse_format",
    "parse_state",
]
