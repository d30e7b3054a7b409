"""The client's exceptions: one class per gRPC status a caller reacts to differently.

Every exception is a :class:`VoxprintError` that keeps the server's status ``code`` and
``message``, so ``except VoxprintError`` catches everything the server said while
``except NotReady`` picks the one case a caller usually retries later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc


class VoxprintError(Exception):
    """The server (or the channel to it) refused a call; ``code`` is the gRPC status."""

    code: grpc.StatusCode
    message: str

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}" if message else code.name)
        self.code = code
        self.message = message


class InvalidArgument(VoxprintError):
    """The request was malformed: bad id, unknown format, not audio, empty upload."""


class NotFound(VoxprintError):
    """No job has that id."""


class NotReady(VoxprintError):
    """FAILED_PRECONDITION: the result does not exist (yet, or because the image step failed)."""


class TooLarge(VoxprintError):
    """RESOURCE_EXHAUSTED: the upload (or a message) is over a server limit, or the server is out of space."""


class Unauthenticated(VoxprintError):
    """The server wants a (different) token."""


class PermissionDenied(VoxprintError):
    """The token is valid but not allowed to do this."""


class Unavailable(VoxprintError):
    """The server cannot be reached or is shutting down; retrying later may succeed."""


class DeadlineExceeded(VoxprintError):
    """The call (or a ``wait``) took longer than its deadline."""


class Cancelled(VoxprintError):
    """The call was cancelled before it finished."""


_CLASS_FOR_CODE: dict[grpc.StatusCode, type[VoxprintError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: NotReady,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TooLarge,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
}


def error_for(code: grpc.StatusCode, message: str) -> VoxprintError:
    """The most specific exception for ``code``; plain :class:`VoxprintError` for the rest."""
    return _CLASS_FOR_CODE.get(code, VoxprintError)(code, message)


def from_rpc_error(error: grpc.RpcError) -> VoxprintError:
    """Translate what a sync or aio stub raised (both are ``grpc.Call``-like)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    return error_for(code or grpc.StatusCode.UNKNOWN, details or "")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise a ``grpc.RpcError`` from the block (sync or awaited) as a :class:`VoxprintError`."""
    try:
        yield
    except grpc.RpcError as error:
        raise from_rpc_error(error) from error
