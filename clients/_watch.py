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

from voxprint.common.backoff import RETRYABLE_CODES, Backoff, Retries
from voxprint.common.enums import is_terminal
from voxprint.v1 import voxprint_pb2

from .errors import DeadlineExceeded, VoxprintError, error_for, from_rpc_error


@dataclass(frozen=True)
class ResumePolicy:
    """How hard to try: consecutive failed subscriptions allowed, and the first and longest wait
    between them (growing as :class:`~voxprint.common.backoff.Backoff` grows every wait)."""

    max_attempts: int = 8
    first_delay: float = 0.05
    max_delay: float = 2.0

    @property
    def backoff(self) -> Backoff:
        # The first subscription is not a retry: max_attempts failed resubscriptions are allowed.
        return Backoff(
            attempts=self.max_attempts + 1,
            initial_delay=self.first_delay,
            max_delay=self.max_delay,
            jitter=self.first_delay,
        )


@dataclass
class WatchSession:
    """State of one ``watch(job_id)`` across however many streams it takes."""

    job_id: str
    timeout: float | None = None
    policy: ResumePolicy = field(default_factory=ResumePolicy)
    last_version: int = -1
    finished: bool = False
    _retries: Retries = field(init=False)

    def __post_init__(self) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self._retries = self.policy.backoff.start(deadline)

    @property
    def request(self) -> voxprint_pb2.WatchRequest:
        return voxprint_pb2.WatchRequest(job_id=self.job_id)

    def remaining(self) -> float | None:
        """Seconds left for the next stream (its gRPC deadline); None = unbounded."""
        return self._retries.remaining()

    def admit(self, event: voxprint_pb2.JobEvent) -> bool:
        """Record ``event``; True if the caller has not seen this version yet."""
        if event.job.version <= self.last_version:
            return False
        self.last_version = event.job.version
        self.finished = is_terminal(event.job)
        self._retries.succeeded()
        return True

    def retry_delay(self, error: grpc.RpcError | None) -> float:
        """The stream ended before a terminal state (``error`` None) or failed with ``error``.

        Returns how long to wait before subscribing again, or raises the error worth reporting.
        """
        if self._retries.out_of_time():
            raise self._timed_out()
        if error is not None and error.code() not in RETRYABLE_CODES:
            raise from_rpc_error(error)
        delay = self._retries.next_delay()
        if delay is None:
            raise self._gave_up(error) if self._retries.exhausted() else self._timed_out()
        return delay

    def _timed_out(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"job {self.job_id} did not finish within {self.timeout:g} s",
        )

    def _gave_up(self, error: grpc.RpcError | None) -> VoxprintError:
        why = from_rpc_error(error).message if error is not None else "stream ended before the job did"
        return error_for(
            grpc.StatusCode.UNAVAILABLE,
            f"lost the watch on job {self.job_id} {self._retries.failures} times in a row: {why}",
        )
