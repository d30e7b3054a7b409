"""Live job events: worker threads publish each committed change, Watch streams receive it.

Subscribers are asyncio queues on the server's event loop, so an idle watcher costs a queue and a
suspended coroutine, not a thread. Publishing is thread-safe and never blocks a worker: it hands
the event to the loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from voxprint.v1 import voxprint_pb2


class JobEvents:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._subscribers: defaultdict[str, set[asyncio.Queue[voxprint_pb2.Job]]] = defaultdict(set)

    def publish(self, job: voxprint_pb2.Job) -> None:
        """Announce a new version of ``job``; callable from any thread."""
        self._loop.call_soon_threadsafe(self._deliver, job)

    def _deliver(self, job: voxprint_pb2.Job) -> None:
        for queue in self._subscribers.get(job.id, ()):
            queue.put_nowait(job)

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[asyncio.Queue[voxprint_pb2.Job]]:
        """Receive every version of the job published while the context is open (loop thread only)."""
        queue: asyncio.Queue[voxprint_pb2.Job] = asyncio.Queue()
        self._subscribers[job_id].add(queue)
        try:
            yield queue
        finally:
            subscribers = self._subscribers[job_id]
            subscribers.discard(queue)
            if not subscribers:
                del self._subscribers[job_id]
