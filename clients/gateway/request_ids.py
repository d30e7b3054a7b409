"""Submit request ids for recordings: stable for a recording, unguessable for anyone else.

The server returns the existing job for a request id it has seen, which is what makes a retried
or replayed submit harmless. An id anyone could compute from a device and session id would let a
gRPC client claim a device's recording in advance (submit first, under that id, something else),
so the id is an HMAC of the recording's key under a secret of the gateway's. The secret lives in
the gateway's state directory, so a restarted gateway maps a replayed recording to the same job.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from voxprint.clients.gateway.assembler import SessionKey

SECRET_FILE = "request-id.key"
SECRET_BYTES = 32
# 128 bits of the HMAC: unguessable, and short enough for the server's request id limit.
ID_HEX_DIGITS = 32


class SecretFileError(ValueError):
    """The state directory holds something that is not a request id secret."""


class RequestIds:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def for_session(self, key: SessionKey) -> str:
        digest = hmac.new(self._secret, f"{key.device}/{key.session:x}".encode(), hashlib.sha256)
        return f"gw-{digest.hexdigest()[:ID_HEX_DIGITS]}"


def persistent_secret(state_dir: Path) -> bytes:
    """The secret in `state_dir`, created (readable by the owner only) on first use."""
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = state_dir / SECRET_FILE
    if not path.exists():
        # Written whole under a temporary name, then linked: a crash or a second gateway starting
        # at the same moment never leaves a partial secret, and the first one written wins.
        temporary = state_dir / f".{SECRET_FILE}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(secrets.token_bytes(SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        temporary.unlink()
    secret = path.read_bytes()
    if len(secret) != SECRET_BYTES:
        raise SecretFileError(f"{path} is not a {SECRET_BYTES}-byte request id secret")
    return secret
