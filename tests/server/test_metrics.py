"""``--metrics-listen``: a replica's Prometheus /metrics, scraped over HTTP as Prometheus would."""

from __future__ import annotations

import threading
import time
import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests, watch_events
from voxprint.v1 import voxprint_pb2 as pb

RECORDING = wav_bytes(1.0)


def scrape(server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on the server's /metrics page, by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.server.metrics_port}/metrics", timeout=10) as page:
        text = page.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@pytest.fixture
def monitored(server_factory):
    return server_factory(
        metrics_listen="127.0.0.1:0", transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator()
    )


def test_a_finished_job_is_counted_with_its_stage_durations_and_upload(monitored):
    job = monitored.stub.Submit(submit_requests(RECORDING))
    watch_events(monitored.stub, job.id)
    samples = scrape(monitored)
    assert samples[("voxprint_jobs_finished_total", (("state", "completed"),))] == 1
    for stage in ("transcribe", "illustrate", "rasterize"):
        assert samples[("voxprint_stage_duration_seconds_count", (("stage", stage),))] == 1
    assert samples[("voxprint_upload_bytes_total", ())] == len(RECORDING)
    assert samples[("voxprint_jobs_queued", ())] == 0


def test_calls_are_counted_by_method_and_status_code(monitored):
    monitored.stub.ListJobs(pb.ListJobsRequest())
    with pytest.raises(grpc.RpcError):
        monitored.stub.GetJob(pb.GetJobRequest(job_id="00000000-0000-0000-0000-000000000000"))
    samples = scrape(monitored)
    assert samples[("voxprint_grpc_calls_total", (("code", "OK"), ("method", "ListJobs")))] == 1
    assert samples[("voxprint_grpc_calls_total", (("code", "NOT_FOUND"), ("method", "GetJob")))] == 1


def test_a_failing_backend_is_counted_by_backend_stage_and_error(server_factory):
    server = server_factory(
        metrics_listen="127.0.0.1:0",
        transcriber=ScriptedTranscriber(),
        illustrator=ScriptedIllustrator(fail="the model is down"),
    )
    watch_events(server.stub, server.stub.Submit(submit_requests(RECORDING)).id)
    samples = scrape(server)
    labels = (("backend", "scripted-image"), ("code", "IllustrationError"), ("stage", "illustrate"))
    assert samples[("voxprint_backend_errors_total", labels)] == 1
    assert samples[("voxprint_jobs_finished_total", (("state", "completed_with_error"),))] == 1


@pytest.fixture
def gate() -> threading.Event:
    return threading.Event()


@pytest.fixture
def held(server_factory, gate):
    """A monitored server whose speech-to-text waits for ``gate``."""
    return server_factory(
        metrics_listen="127.0.0.1:0", transcriber=ScriptedTranscriber(gate=gate), illustrator=ScriptedIllustrator()
    )


def test_open_watch_streams_are_a_gauge(held, gate):
    job = held.stub.Submit(submit_requests(RECORDING))
    stream = held.stub.Watch(pb.WatchRequest(job_id=job.id))
    next(stream)  # the snapshot: the stream is open
    assert scrape(held)[("voxprint_watch_streams_open", ())] == 1
    gate.set()
    list(stream)
    assert scrape(held)[("voxprint_watch_streams_open", ())] == 0


def test_a_running_job_is_in_progress_and_the_waiting_ones_are_queued(held, gate):
    jobs = [held.stub.Submit(submit_requests(RECORDING)) for _ in range(4)]
    # Two workers take the two oldest jobs, and both wait at the gate; the other two wait for them.
    for running in jobs[:2]:
        for event in held.stub.Watch(pb.WatchRequest(job_id=running.id)):
            if event.job.state == pb.JOB_STATE_TRANSCRIBING:
                break
    samples = scrape(held)
    assert (samples[("voxprint_jobs_in_progress", ())], samples[("voxprint_jobs_queued", ())]) == (2, 2)
    gate.set()


def calls(server, method: str, code: str) -> float:
    return scrape(server).get(("voxprint_grpc_calls_total", (("code", code), ("method", method))), 0)


def counted_soon(server, method: str, code: str) -> bool:
    """The call is counted once its handler has finished, which may be just after the client saw the end."""
    deadline = time.monotonic() + 5
    while calls(server, method, code) != 1:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_watch_that_streams_to_the_end_is_counted_ok(monitored):
    job = monitored.stub.Submit(submit_requests(RECORDING))
    watch_events(monitored.stub, job.id)

    assert counted_soon(monitored, "Watch", "OK")
    assert calls(monitored, "Watch", "UNKNOWN") == 0
    assert calls(monitored, "Submit", "OK") == 1


def test_a_watch_of_an_unknown_job_is_counted_with_its_code(monitored):
    with pytest.raises(grpc.RpcError):
        list(monitored.stub.Watch(pb.WatchRequest(job_id="00000000-0000-0000-0000-000000000000")))

    assert counted_soon(monitored, "Watch", "NOT_FOUND")


def test_a_watch_the_client_cancels_is_counted_cancelled(held, gate):
    job = held.stub.Submit(submit_requests(RECORDING))
    stream = held.stub.Watch(pb.WatchRequest(job_id=job.id))
    next(stream)  # the snapshot: the stream is open, waiting for a change
    stream.cancel()

    assert counted_soon(held, "Watch", "CANCELLED")
    gate.set()
