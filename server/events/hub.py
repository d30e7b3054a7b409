"""The fan-out of job changes inside one replica: publishers on any thread, Watch streams on the loop.

Subscribers are asyncio queues on the server's event loop, so an idle watcher costs a queue and a
suspended coroutine, not a thread. Publishing is thread-safe and never blocks a worker: it hands
the event to the loop with ``call_soon_threadsafe``. A version is delivered once per job, however
many sources announce it (the local worker, and PostgreSQL's notice of the same commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from voxprint.v1 import voxprint_pb2


class JobEvents:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._subscribers: dict[str, set[asyncio.Queue[voxprint_pb2.Job]]] = {}
        self._delivered_version: dict[str, int] = {}

    def publish(self, job: voxprint_pb2.Job) -> None:
        """Announce a new version of ``job``; callable from any thread."""
        self._loop.call_soon_threadsafe(self._deliver, job)

    def is_watched(self, job_id: str) -> bool:
        """Whether anyone here follows the job (callable from any thread; a hint, not a promise)."""
        return job_id in self._subscribers

    def delivered_version(self, job_id: str) -> int:
        """The newest version handed to the job's watchers so far (0 if none); any thread."""
        return self._delivered_version.get(job_id, 0)

    def watched_jobs(self) -> list[str]:
        return list(self._subscribers)

    def _deliver(self, job: voxprint_pb2.Job) -> None:
        subscribers = self._subscribers.get(job.id)
        if not subscribers or job.version <= self._delivered_version.get(job.id, 0):
            return
        self._delivered_version[job.id] = job.version
        for queue in subscribers:
            queue.put_nowait(job)

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[asyncio.Queue[voxprint_pb2.Job]]:
        """Receive every version of the job published while the context is open (loop thread only)."""
        queue: asyncio.Queue[voxprint_pb2.Job] = asyncio.Queue()
        self._subscribers.setdefault(job_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers[job_id]
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[job_id]
                self._delivered_version.pop(job_id, None)
