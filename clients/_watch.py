"""The bookkeeping behind a resumable Watch, shared by the sync and the asyncio client.

A Watch stream can drop mid-job (server restart, proxy idle timeout, flaky Wi-Fi). The clients
then subscribe again; the new stream starts with a snapshot, and events whose ``job.version``
was already delivered are skipped, so the caller sees each change once, in order, and the
iteration ends exactly when the job reaches a terminal state.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import grpc

from voxprint.v1 import voxprint_pb2

from ._formats import is_terminal
from .errors import DeadlineExceeded, VoxprintError, error_for, from_rpc_error

#: Failures that say "the stream broke", not "the request is wrong": worth subscribing again.
RESUMABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL})


@dataclass(frozen=True)
class ResumePolicy:
    """How hard to try: consecutive failed subscriptions allowed, and the backoff between them."""

    max_attempts: int = 8
    first_delay: float = 0.05
    max_delay: float = 2.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2.0 ** (attempt - 1))


@dataclass
class WatchSession:
    """State of one ``watch(job_id)`` across however many streams it takes."""

    job_id: str
    timeout: float | None = None
    policy: ResumePolicy = field(default_factory=ResumePolicy)
    last_version: int = -1
    finished: bool = False
    _failures: int = 0
    _deadline: float | None = None

    def __post_init__(self) -> None:
        if self.timeout is not None:
            self._deadline = time.monotonic() + self.timeout

    @property
    def request(self) -> voxprint_pb2.WatchRequest:
        return voxprint_pb2.WatchRequest(job_id=self.job_id)

    def remaining(self) -> float | None:
        """Seconds left for the next stream (its gRPC deadline); None = unbounded."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def admit(self, event: voxprint_pb2.JobEvent) -> bool:
        """Record ``event``; True if the caller has not seen this version yet."""
        if event.job.version <= self.last_version:
            return False
        self.last_version = event.job.version
        self.finished = is_terminal(event.job)
        self._failures = 0
        return True

    def retry_delay(self, error: grpc.RpcError | None) -> float:
        """The stream ended before a terminal state (``error`` None) or failed with ``error``.

        Returns how long to wait before subscribing again, or raises the error worth reporting.
        """
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceeded(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"job {self.job_id} did not finish within {self.timeout:g} s",
            )
        if error is not None and error.code() not in RESUMABLE_CODES:
            raise from_rpc_error(error)
        self._failures += 1
        if self._failures > self.policy.max_attempts:
            raise self._gave_up(error)
        delay = self.policy.delay(self._failures)
        return delay if remaining is None else min(delay, remaining)

    def _gave_up(self, error: grpc.RpcError | None) -> VoxprintError:
        why = from_rpc_error(error).message if error is not None else "stream ended before the job did"
        return error_for(
            grpc.StatusCode.UNAVAILABLE,
            f"lost the watch on job {self.job_id} {self._failures} times in a row: {why}",
        )
