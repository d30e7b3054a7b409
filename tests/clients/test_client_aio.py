"""The asyncio client behaves like the sync one: same uploads, resumption and errors."""

from __future__ import annotations

import grpc
import pytest

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.clients import JOB_ID, FakeServer, event_at, job_at
from voxprint.clients import AsyncVoxprintClient, ChannelConfig, NotFound, NotReady
from voxprint.clients._upload import CHUNK_SIZE
from voxprint.clients._watch import ResumePolicy
from voxprint.v1 import voxprint_pb2

FAST_RESUME = ResumePolicy(max_attempts=3, first_delay=0.01, max_delay=0.05)


@pytest.fixture
async def client(fake_voxprint: FakeServer):
    async with AsyncVoxprintClient(fake_voxprint.target, resume_policy=FAST_RESUME) as client:
        yield client


async def test_submit_streams_metadata_then_chunks(client, fake_voxprint, tmp_path):
    recording = bytes(range(256)) * (CHUNK_SIZE // 128)
    wav = tmp_path / "porch.wav"
    wav.write_bytes(recording)
    progress: list[int] = []

    job = await client.submit(wav, request_id="r-1", progress=lambda sent, total: progress.append(sent))

    upload = fake_voxprint.servicer.uploads[0]
    assert upload[0].metadata.filename == "porch.wav" == job.filename
    assert upload[0].metadata.request_id == "r-1"
    assert b"".join(request.audio_chunk for request in upload[1:]) == recording
    assert progress == [0, CHUNK_SIZE, 2 * CHUNK_SIZE]


async def test_watch_resumes_a_dropped_stream_without_repeating_events(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [
        [event_at(1, snapshot=True), event_at(2), grpc.StatusCode.UNAVAILABLE],
        [event_at(2, snapshot=True), event_at(3), event_at(4), event_at(5), event_at(6)],
    ]
    versions = [event.job.version async for event in client.watch(JOB_ID)]
    assert versions == [1, 2, 3, 4, 5, 6]
    assert fake_voxprint.servicer.watch_calls == 2


async def test_wait_returns_the_terminal_job(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [[event_at(4, snapshot=True), event_at(6)]]
    assert await client.wait(JOB_ID, timeout=5) == job_at(6)


async def test_watch_of_an_unknown_job_raises_not_found(client):
    with pytest.raises(NotFound):
        [event async for event in client.watch("00000000-0000-0000-0000-000000000000")]


async def test_fetch_maps_failed_precondition_to_not_ready(client, fake_voxprint):
    fake_voxprint.servicer.fetch_error = (grpc.StatusCode.FAILED_PRECONDITION, "job is PENDING")
    with pytest.raises(NotReady) as raised:
        await client.fetch(JOB_ID, "raw")
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert raised.value.message == "job is PENDING"


async def test_iter_jobs_walks_every_page(client, fake_voxprint):
    fake_voxprint.servicer.jobs = [voxprint_pb2.Job(id=f"job-{n}") for n in range(777)]
    assert [job.id async for job in client.iter_jobs()] == [f"job-{n}" for n in range(777)]


async def test_get_sends_the_bearer_token(fake_voxprint):
    async with AsyncVoxprintClient(ChannelConfig(target=fake_voxprint.target, token="t0k")) as client:
        job = await client.get(JOB_ID)
    assert job.id == JOB_ID
    assert fake_voxprint.servicer.call_metadata[0]["authorization"] == "Bearer t0k"


@pytest.mark.slow
async def test_submit_watch_fetch_on_the_real_server(server_factory, speech_wav):
    server = server_factory()
    async with AsyncVoxprintClient(server.target) as client:
        job = await client.submit(speech_wav)
        states = [event.job.state async for event in client.watch(job.id, timeout=120)]
        finished = await client.get(job.id)
        preview = await client.fetch(job.id, "preview")
    assert states[-1] == voxprint_pb2.JOB_STATE_COMPLETED
    assert states == sorted(states)  # the pipeline's states are numbered in order
    assert "penguins" in finished.transcript
    assert (preview.width, preview.height) == (finished.raster.width, finished.raster.height)


async def test_draw_makes_a_job_of_the_phrase_on_the_real_server(server_factory):
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    async with AsyncVoxprintClient(server.target) as client:
        job = await client.draw("a dragon", request_id="dragon-1", width=576)
        assert (await client.draw("a dragon", request_id="dragon-1")).id == job.id
        finished = await client.wait(job.id, timeout=30)
    assert (finished.state, finished.transcript, finished.raster.width) == (
        voxprint_pb2.JOB_STATE_COMPLETED,
        "a dragon",
        576,
    )
