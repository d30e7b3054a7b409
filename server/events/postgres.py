"""PostgreSQL LISTEN/NOTIFY: changes committed by any replica reach this replica's watchers.

Every fenced job write sends ``NOTIFY voxprint_job_changes, '<id> <version>'`` inside its
transaction (``server.store.database.announce_change``), so the notice leaves only on commit.
Here one thread LISTENs on a dedicated connection and only notes, per job, the newest version
announced; a second thread re-reads, in one query, every noted job someone here watches and has
not seen at that version, and publishes the rows to the hub. A burst of notices (many jobs moving
at once) thus costs one read per batch, not one per notice, and the listener never waits on the
database. If the connection drops, the listener reconnects with backoff and has every watched job
re-read, so a change made meanwhile is not missed.

The LISTEN connection is also the first to know that PostgreSQL went away: it is open all the
time, and a server that shuts down ends it at once. Each failure is reported to ``on_lost`` (the
health monitor), so the replica turns NOT_SERVING within moments even while no request or worker
happens to touch the database.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg

from voxprint.server.events.hub import JobEvents
from voxprint.server.store import Job
from voxprint.server.store.database import CHANGE_CHANNEL
from voxprint.v1 import voxprint_pb2

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
# A version that is newer than any real one: "re-read this job whatever its watchers have seen".
_ANY_VERSION = 2**62


class PostgresChangeListener:
    def __init__(
        self,
        conninfo: str,
        application_name: str,
        events: JobEvents,
        read_jobs: Callable[[list[uuid.UUID]], list[Job]],
        to_message: Callable[[Job], voxprint_pb2.Job],
        on_lost: Callable[[], None] = lambda: None,
    ) -> None:
        self._conninfo = conninfo
        self._on_lost = on_lost
        self._application_name = application_name
        self._events = events
        self._read_jobs = read_jobs
        self._to_message = to_message
        self._stopping = threading.Event()
        self._connected = threading.Event()
        # job id → newest version announced and not yet handled; guarded by _noted_lock.
        self._noted: dict[str, int] = {}
        self._noted_lock = threading.Lock()
        self._something_noted = threading.Event()
        self._threads = [
            threading.Thread(target=self._listen_forever, name="voxprint-pg-listener", daemon=True),
            threading.Thread(target=self._refresh_forever, name="voxprint-pg-refresher", daemon=True),
        ]

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; returns once LISTEN is in place (so no commit after this is missed)."""
        for thread in self._threads:
            thread.start()
        if not self._connected.wait(timeout):
            raise ConnectionError("could not LISTEN for job changes on PostgreSQL")

    def stop(self) -> None:
        self._stopping.set()
        self._something_noted.set()
        for thread in self._threads:
            thread.join(5)

    def _listen_forever(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, application_name=self._application_name
                ) as connection:
                    connection.execute(f"LISTEN {CHANGE_CHANNEL}")
                    if failures:
                        log.info("listening for job changes again")
                        self._note({job_id: _ANY_VERSION for job_id in self._events.watched_jobs()})
                    failures = 0
                    self._connected.set()
                    while not self._stopping.is_set():
                        for notice in connection.notifies(timeout=0.5):
                            self._note_payload(notice.payload)
            except psycopg.Error as error:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("job-change listener lost PostgreSQL (%s); retrying in %.1f s", type(error).__name__, delay)
                if not self._stopping.is_set():
                    self._on_lost()
                self._stopping.wait(delay)

    def _note_payload(self, payload: str) -> None:
        """Note one "<job id> <version>" notice; anything else on the channel is logged and skipped."""
        job_id, _, version = payload.partition(" ")
        try:
            self._note({str(uuid.UUID(job_id)): int(version)})
        except ValueError:
            log.warning("ignored a malformed job-change notice %r", payload[:100])

    def _note(self, versions: dict[str, int]) -> None:
        with self._noted_lock:
            for job_id, version in versions.items():
                self._noted[job_id] = max(version, self._noted.get(job_id, 0))
        self._something_noted.set()

    def _refresh_forever(self) -> None:
        while True:
            self._something_noted.wait()
            if self._stopping.is_set():
                return
            self._something_noted.clear()
            with self._noted_lock:
                noted, self._noted = self._noted, {}
            stale = [
                uuid.UUID(job_id)
                for job_id, version in noted.items()
                if self._events.is_watched(job_id) and version > self._events.delivered_version(job_id)
            ]
            if stale:
                self._republish(stale)

    def _republish(self, job_ids: list[uuid.UUID]) -> None:
        try:
            jobs = self._read_jobs(job_ids)
        except Exception:
            # The watchers' own periodic re-read covers what this batch could not deliver.
            log.exception("could not re-read %d changed job(s) for their watchers", len(job_ids))
            return
        for job in jobs:
            self._events.publish(self._to_message(job))
