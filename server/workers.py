"""A bounded pool of worker threads that claim jobs from the store and run the pipeline.

Workers are threads because every stage blocks (speech model, HTTP calls, Pillow, the Cython
kernel — which releases the GIL). They sleep on an event that Submit sets, and also look for
work every ``poll_interval`` seconds so a job is never stranded by a missed wake-up.
"""

from __future__ import annotations

import logging
import threading
import uuid

from server.pipeline import Pipeline
from server.store import JobStore

log = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, store: JobStore, pipeline: Pipeline, size: int, poll_interval: float = 1.0) -> None:
        self.store = store
        self.pipeline = pipeline
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"voxprint-worker-{n}", daemon=True) for n in range(size)
        ]
        # Distinguishes this process's claims from a crashed predecessor's.
        self._owner = uuid.uuid4().hex

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def notify(self) -> None:
        """There may be new work (called after a Submit commits)."""
        self._wake.set()

    def stop(self, timeout: float) -> bool:
        """Take no new jobs; wait up to ``timeout`` s for running ones. True if all finished.

        A job still running after the timeout stays claimed in the database; the next start
        releases the claim and resumes it from its last finished stage.
        """
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while not self._stopping.is_set():
            # Clear before looking, so a Submit that commits after the look still wakes us.
            self._wake.clear()
            job = self.store.claim_next(self._owner)
            if job is None:
                self._wake.wait(self.poll_interval)
                continue
            try:
                self.pipeline.run(job)
            except Exception:
                # The pipeline records stage failures itself; this is a database or programming
                # error. Leave the job claimed (it resumes on restart) rather than spin on it.
                log.exception("job %s: worker error; it will resume on the next start", job.id)
                continue
            self.store.release(job)
        self.store.close()
