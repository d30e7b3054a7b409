"""PostgreSQL LISTEN/NOTIFY: changes committed by any replica reach this replica's watchers.

Every fenced job write sends ``NOTIFY voxprint_job_changes, '<id> <version>'`` inside its
transaction (``server.store.database.announce_change``), so the notice leaves only on commit. One
thread here LISTENs on a dedicated connection; for a job someone here watches and a version newer
than what they have, it re-reads the row once and publishes it to the hub. If the connection
drops, it reconnects with backoff and re-reads every watched job, so a change made meanwhile is
not missed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg

from server.events.hub import JobEvents
from server.store import Job
from server.store.database import CHANGE_CHANNEL
from voxprint.v1 import voxprint_pb2

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


class PostgresChangeListener:
    def __init__(
        self,
        conninfo: str,
        application_name: str,
        events: JobEvents,
        read_job: Callable[[uuid.UUID], Job | None],
        to_message: Callable[[Job], voxprint_pb2.Job],
    ) -> None:
        self._conninfo = conninfo
        self._application_name = application_name
        self._events = events
        self._read_job = read_job
        self._to_message = to_message
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._listen_forever, name="voxprint-pg-listener", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; returns once LISTEN is in place (so no commit after this is missed)."""
        self._thread.start()
        if not self._connected.wait(timeout):
            raise ConnectionError("could not LISTEN for job changes on PostgreSQL")

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)

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
                        self._catch_up()
                    failures = 0
                    self._connected.set()
                    while not self._stopping.is_set():
                        for notice in connection.notifies(timeout=0.5):
                            self._on_notice(notice.payload)
            except psycopg.Error as error:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("job-change listener lost PostgreSQL (%s); retrying in %.1f s", type(error).__name__, delay)
                self._stopping.wait(delay)

    def _on_notice(self, payload: str) -> None:
        job_id, _, version = payload.partition(" ")
        if self._events.is_watched(job_id) and int(version) > self._events.delivered_version(job_id):
            self._republish(job_id)

    def _catch_up(self) -> None:
        for job_id in self._events.watched_jobs():
            self._republish(job_id)

    def _republish(self, job_id: str) -> None:
        try:
            job = self._read_job(uuid.UUID(job_id))
        except Exception:
            log.exception("job %s: could not re-read a changed job for its watchers", job_id)
            return
        if job is not None:
            self._events.publish(self._to_message(job))
