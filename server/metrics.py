"""Prometheus metrics for a replica (``--metrics-listen``): what an operator graphs and alerts on.

    voxprint_jobs_finished_total{state="completed"|"completed_with_error"|"failed"}
    voxprint_stage_duration_seconds{stage="transcribe"|"illustrate"|"rasterize"}   (histogram)
    voxprint_jobs_queued              (gauge: unfinished jobs nobody is working on, all replicas)
    voxprint_jobs_in_progress         (gauge: jobs this replica's workers are running)
    voxprint_upload_bytes_total       (recording bytes accepted by Submit)
    voxprint_watch_streams_open       (gauge)
    voxprint_backend_errors_total{backend="whisper:tiny.en"|…, stage=…, code="TranscriptionError"|…}
    voxprint_grpc_calls_total{method="Submit"|…, code="OK"|"NOT_FOUND"|…}

Each server owns its registry, so several servers in one process (the tests) never collide.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from voxprint.common.addresses import split_host_port
from voxprint.server.method_handlers import Continuation, Request, Response, behaviour_of, with_behaviour

# Stage durations run from milliseconds (rasterizing) to minutes (a slow cloud call).
STAGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    def __init__(self, queued: Callable[[], int] = lambda: 0) -> None:
        self.registry = CollectorRegistry()
        self._http: WSGIServer | None = None
        self._jobs_finished = Counter(
            "voxprint_jobs_finished", "Jobs that reached a final state.", ["state"], registry=self.registry
        )
        self._stage_duration = Histogram(
            "voxprint_stage_duration_seconds",
            "Time a pipeline stage took, failed attempts included.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self._queued = Gauge("voxprint_jobs_queued", "Unfinished jobs no worker holds.", registry=self.registry)
        self._queued.set_function(lambda: _or_nan(queued))
        self._in_progress = Gauge(
            "voxprint_jobs_in_progress", "Jobs this replica's workers are running.", registry=self.registry
        )
        self._upload_bytes = Counter(
            "voxprint_upload_bytes", "Recording bytes accepted by Submit.", registry=self.registry
        )
        self._watch_streams = Gauge("voxprint_watch_streams_open", "Watch streams open.", registry=self.registry)
        self._backend_errors = Counter(
            "voxprint_backend_errors",
            "Stage failures, by backend, stage and kind of error.",
            ["backend", "stage", "code"],
            registry=self.registry,
        )
        self._grpc_calls = Counter(
            "voxprint_grpc_calls",
            "gRPC calls answered, by method and status code.",
            ["method", "code"],
            registry=self.registry,
        )

    def serve(self, listen: str) -> int:
        """Serve ``/metrics`` on ``HOST:PORT`` (port 0: any free port); returns the port."""
        host, port = split_host_port(listen)
        self._http, _thread = start_http_server(port, addr=host or "0.0.0.0", registry=self.registry)
        return self._http.server_port

    def close(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def job_finished(self, state: str, with_error: bool) -> None:
        self._jobs_finished.labels(f"{state}_with_error" if with_error and state == "completed" else state).inc()

    def stage_finished(self, stage: str, seconds: float) -> None:
        self._stage_duration.labels(stage).observe(seconds)

    def stage_failed(self, stage: str, backend: str, error: BaseException) -> None:
        """Count a failed stage; the error's type is the code (a small, fixed set of labels)."""
        self._backend_errors.labels(backend or "none", stage, type(error).__name__).inc()

    def upload_received(self, size: int) -> None:
        self._upload_bytes.inc(size)

    @contextmanager
    def job_in_progress(self) -> Iterator[None]:
        with self._in_progress.track_inprogress():
            yield

    @contextmanager
    def watch_stream(self) -> Iterator[None]:
        with self._watch_streams.track_inprogress():
            yield

    def interceptor(self) -> grpc.aio.ServerInterceptor:
        return _CallCounter(self._grpc_calls)


class _CallCounter(grpc.aio.ServerInterceptor):
    """Counts every answered call by method and final status code."""

    def __init__(self, calls: Counter) -> None:
        self._calls = calls

    async def intercept_service(
        self, continuation: Continuation[Request, Response], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Request, Response] | None:
        handler = await continuation(details)
        if handler is None:
            return handler
        method = details.method.rsplit("/", 1)[-1]
        behaviour = behaviour_of(handler)
        counted = self._streaming if handler.response_streaming else self._unary
        return with_behaviour(handler, counted(behaviour, method))

    @contextmanager
    def _counting(self, method: str, context: Any) -> Iterator[Callable[[], None]]:
        """Count the call once it ends, with the code its handler set; when it set none, OK if the
        handler called the yielded ``succeeded()``, CANCELLED if it was cancelled, else UNKNOWN."""
        unset = grpc.StatusCode.UNKNOWN

        def succeeded() -> None:
            nonlocal unset
            unset = grpc.StatusCode.OK

        try:
            yield succeeded
        except asyncio.CancelledError:
            unset = grpc.StatusCode.CANCELLED
            raise
        finally:
            self._calls.labels(method, (context.code() or unset).name).inc()

    def _unary(self, behaviour: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Awaitable[Any]]:
        async def counted(request: Any, context: Any) -> Any:
            with self._counting(method, context) as succeeded:
                answer = await behaviour(request, context)
                succeeded()
                return answer

        return counted

    def _streaming(self, behaviour: Callable[..., Any], method: str) -> Callable[..., Any]:
        async def counted(request: Any, context: Any) -> Any:
            with self._counting(method, context) as succeeded:
                answer = behaviour(request, context)
                if inspect.isawaitable(answer):
                    # A handler that writes with context.write (or only aborts) instead of yielding.
                    await answer
                else:
                    async for message in answer:
                        yield message
                succeeded()

        return counted


def _or_nan(read: Callable[[], int]) -> float:
    """A scrape must answer even while the database is away; NaN says "unknown" to Prometheus."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - any failure means the figure is unknown right now
        return math.nan
