"""A bounded pool of worker threads that claim jobs from the queue and run the pipeline.

Workers are threads because every stage blocks (speech model, HTTP calls, Pillow, the Cython
kernel — which releases the GIL). They sleep on an event that Submit sets, and also look for
work every ``poll_interval`` seconds, which is also how jobs submitted to another replica, or
left by a dead one whose leases ran out, are found. One more thread renews, every ``lease/3``
seconds, the leases of the jobs the workers are running at that moment, and no others.

A worker survives any error: a database or storage failure is logged, the job's claim is given
back (or, if even that fails, left to expire: no heartbeat renews a job no worker runs, so this
replica or another takes it again), and the worker backs off before it looks again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from voxprint.server.pipeline import Pipeline
from voxprint.server.store import Job, JobQueue, LeaseLost

log = logging.getLogger(__name__)

# Seconds a worker waits after an unexpected error before it claims again, doubling to the last.
ERROR_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)


class WorkerPool:
    def __init__(
        self,
        queue: JobQueue,
        pipeline: Pipeline,
        size: int,
        poll_interval: float = 1.0,
        on_error: Callable[[], None] = lambda: None,
    ) -> None:
        self.queue = queue
        self.pipeline = pipeline
        # Told of every unexpected worker error (the server's health monitor listens).
        self.on_error = on_error
        self.poll_interval = poll_interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        # The jobs the workers are carrying out now, by worker thread: the heartbeat renews these.
        self._running: dict[int, Job] = {}
        self._running_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"voxprint-worker-{n}", daemon=True) for n in range(size)
        ]
        self._heartbeat = threading.Thread(target=self._renew_leases, name="voxprint-heartbeat", daemon=True)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self._heartbeat.start()

    def notify(self) -> None:
        """There may be new work (called after a Submit commits)."""
        self._wake.set()

    def stop(self, timeout: float) -> bool:
        """Take no new jobs; wait up to ``timeout`` s for running ones. True if all finished.

        A job still running after the timeout stays claimed; the next start of this replica
        resumes it at once, or another replica takes it over when the lease expires.
        """
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        finished = not any(thread.is_alive() for thread in self._threads)
        self._heartbeat.join(timeout)
        return finished

    def _work(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            # Clear before looking, so a Submit that commits after the look still wakes us.
            self._wake.clear()
            try:
                found = self._claim_and_run()
                failures = 0
            except Exception:
                log.exception("worker error; backing off before the next claim")
                self.on_error()
                self._stopping.wait(ERROR_BACKOFF[min(failures, len(ERROR_BACKOFF) - 1)])
                failures += 1
                continue
            if not found:
                self._wake.wait(self.poll_interval)

    def _claim_and_run(self) -> bool:
        job = self.queue.claim_next()
        if job is None:
            return False
        try:
            with self._carrying_out(job), self.pipeline.metrics.job_in_progress():
                self.pipeline.run(job)
        except LeaseLost:
            # Paused or cut off past the expiry: the write was refused, and this worker's result
            # (a picture it stored is already taken back) gives way to the one that holds the job.
            log.warning(
                "lost the lease of job %s (attempt %d): its write was refused; the job is left to the"
                " worker that holds it now",
                job.id,
                job.attempt,
            )
            return True
        finally:
            self._release_quietly(job)
        return True

    @contextmanager
    def _carrying_out(self, job: Job) -> Iterator[None]:
        worker = threading.get_ident()
        with self._running_lock:
            self._running[worker] = job
        try:
            yield
        finally:
            with self._running_lock:
                del self._running[worker]

    def running_jobs(self) -> list[Job]:
        """The jobs the workers are carrying out now."""
        with self._running_lock:
            return list(self._running.values())

    def _release_quietly(self, job: Job) -> None:
        try:
            self.queue.release(job)
        except Exception:
            # The claim expires by itself; the job is taken over then.
            log.exception("job %s: could not release the claim; it will expire", job.id)

    def _renew_leases(self) -> None:
        interval = self.queue.lease.total_seconds() / 3
        while not self._stopping.wait(interval):
            try:
                self.queue.heartbeat(self.running_jobs())
            except Exception:
                log.exception("could not renew this replica's leases; retrying in %.1f s", interval)
