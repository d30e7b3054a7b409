"""Uploads cancelled by their client, over and over, at every point of the stream — including after
the last chunk but before the client half-closes: none becomes a job, none leaves a file, and the
request id stays free for the retry."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow

RECORDING = wav_bytes(2.0)
CHUNK_BYTES = 16 * 1024
CANCELLATIONS = 60
SETTLE_SECONDS = 5.0
# Longer than any job creation takes (an fsync or two): a cancelled upload's job, if it were made
# and not taken back, would be there to see by then.
QUIET_SECONDS = 2.0


@pytest.fixture
def held_server(server_factory):
    """A server whose transcriber waits, so no job a cancellation leaves behind can finish and hide."""
    gate = threading.Event()
    yield server_factory(transcriber=ScriptedTranscriber(gate=gate), illustrator=ScriptedIllustrator())
    gate.set()


def cancel_upload(server, request_id: str, messages_sent: int) -> None:
    """Send the first ``messages_sent`` messages of a Submit, never half-close, then cancel it."""
    requests = list(submit_requests(RECORDING, request_id=request_id, chunk_size=CHUNK_BYTES))
    all_sent, released = threading.Event(), threading.Event()

    def stream():
        yield from requests[:messages_sent]
        all_sent.set()
        released.wait(10)

    call = server.stub.Submit.future(stream(), timeout=30)
    assert all_sent.wait(10)
    call.cancel()
    released.set()


def settled(server) -> tuple[list[pb.Job], list[Path]]:
    """The server's jobs and recordings once the cancellations have reached it (a client cancels at
    once, locally; the server hears of it a moment later)."""
    time.sleep(QUIET_SECONDS)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        jobs, files = list(server.stub.ListJobs(pb.ListJobsRequest(page_size=100)).jobs), server.stored_media("audio")
        if not (jobs or files) or time.monotonic() > deadline:
            return jobs, files
        time.sleep(0.1)


def message_count() -> int:
    return len(list(submit_requests(RECORDING, chunk_size=CHUNK_BYTES)))


def test_cancelled_uploads_never_become_jobs_nor_leave_files(held_server):
    chooser = random.Random(10)
    for attempt in range(CANCELLATIONS):
        # Half of them after the whole recording, where a cancellation looks most like the end.
        sent = message_count() if attempt % 2 else chooser.randint(1, message_count())
        cancel_upload(held_server, f"cancelled-{attempt}", sent)

    assert settled(held_server) == ([], [])


def test_a_cancelled_uploads_request_id_is_free_for_the_retry(held_server):
    for _ in range(CANCELLATIONS // 3):
        cancel_upload(held_server, "press-1", message_count())
    assert settled(held_server) == ([], [])

    retried = held_server.stub.Submit(submit_requests(RECORDING, request_id="press-1"), timeout=30)

    assert retried.audio_size_bytes == len(RECORDING)
    assert [job.id for job in held_server.stub.ListJobs(pb.ListJobsRequest()).jobs] == [retried.id]
