"""The LISTEN connection is the first to see PostgreSQL go away: each time it is lost, the listener
tells ``on_lost`` (the health monitor), and it tells nothing when it is only being stopped."""

from __future__ import annotations

import asyncio
import threading

import psycopg

from voxprint.server.events import JobEvents
from voxprint.server.events.postgres import PostgresChangeListener
from voxprint.server.messages import job_to_proto

LABEL = "voxprint listener-health-test"


def listener_on(url: str, lost: threading.Event) -> PostgresChangeListener:
    listener = PostgresChangeListener(
        url, LABEL, JobEvents(asyncio.new_event_loop()), list, job_to_proto, on_lost=lost.set
    )
    listener.start()
    return listener


def test_a_listener_whose_connection_is_lost_tells_health(postgres_url, postgres_cluster):
    lost = threading.Event()
    listener = listener_on(postgres_url, lost)
    try:
        with psycopg.connect(postgres_cluster.url(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (LABEL,)
            )

        assert lost.wait(10)
    finally:
        listener.stop()


def test_a_listener_being_stopped_tells_health_nothing(postgres_url):
    lost = threading.Event()

    listener_on(postgres_url, lost).stop()

    assert not lost.is_set()
