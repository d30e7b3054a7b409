"""The sync client: uploads, resumable watch, error mapping — against a scripted fake server."""

from __future__ import annotations

import os
import threading

import grpc
import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.clients import JOB_ID, FakeServer, event_at, free_port, job_at, self_signed_certificate
from tests.support.servers import GUARD_TOKEN
from voxprint import rasterizer
from voxprint.clients import (
    ChannelConfig,
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    NotReady,
    Unauthenticated,
    Unavailable,
    VoxprintClient,
    VoxprintError,
)
from voxprint.clients._upload import CHUNK_SIZE
from voxprint.clients._watch import ResumePolicy
from voxprint.v1 import voxprint_pb2

FAST_RESUME = ResumePolicy(max_attempts=3, first_delay=0.01, max_delay=0.05)
RECORDING = os.urandom(2 * CHUNK_SIZE + 1234)


@pytest.fixture
def client(fake_voxprint: FakeServer):
    with VoxprintClient(fake_voxprint.target, resume_policy=FAST_RESUME) as client:
        yield client


def uploaded_bytes(upload: list[voxprint_pb2.SubmitRequest]) -> bytes:
    return b"".join(request.audio_chunk for request in upload[1:])


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "file"])
def test_submit_streams_metadata_then_the_whole_recording(client, fake_voxprint, tmp_path, kind):
    wav = tmp_path / "kitchen.wav"
    wav.write_bytes(RECORDING)
    sources = {"path": lambda: wav, "str": lambda: str(wav), "bytes": lambda: RECORDING}
    if kind == "file":
        with wav.open("rb") as file:
            client.submit(file, filename="kitchen.wav")
    else:
        client.submit(sources[kind](), filename="kitchen.wav")

    upload = fake_voxprint.servicer.uploads[0]
    assert upload[0].WhichOneof("payload") == "metadata"
    assert upload[0].metadata.filename == "kitchen.wav"
    assert upload[0].metadata.content_type in ("audio/wav", "audio/x-wav")
    assert all(request.WhichOneof("payload") == "audio_chunk" for request in upload[1:])
    assert uploaded_bytes(upload) == RECORDING


def test_submit_slices_the_upload_into_256_kib_chunks(client, fake_voxprint):
    client.submit(RECORDING)
    sizes = [len(request.audio_chunk) for request in fake_voxprint.servicer.uploads[0][1:]]
    assert sizes == [CHUNK_SIZE, CHUNK_SIZE, 1234]


def test_submit_names_a_path_upload_after_the_file(client, fake_voxprint, tmp_path):
    wav = tmp_path / "garden.wav"
    wav.write_bytes(RECORDING)
    job = client.submit(wav)
    assert job.filename == "garden.wav"


def test_submit_reports_progress_up_to_the_total(client):
    calls: list[tuple[int, int | None]] = []
    client.submit(RECORDING, progress=lambda sent, total: calls.append((sent, total)))
    assert calls[0] == (0, len(RECORDING))
    assert calls[-1] == (len(RECORDING), len(RECORDING))
    assert [sent for sent, _ in calls] == sorted(sent for sent, _ in calls)


def test_submit_reports_unknown_total_for_an_unseekable_stream(client, fake_voxprint):
    read_end, write_end = os.pipe()
    os.write(write_end, RECORDING[:1000])
    os.close(write_end)
    totals = set()
    with open(read_end, "rb", buffering=0) as pipe:
        client.submit(pipe, progress=lambda sent, total: totals.add(total))
    assert totals == {None}
    assert uploaded_bytes(fake_voxprint.servicer.uploads[0]) == RECORDING[:1000]


def test_submit_sends_request_id_and_print_options(client, fake_voxprint):
    job = client.submit(RECORDING, request_id="device-7/session-3", width=576, dither="atkinson")
    metadata = fake_voxprint.servicer.uploads[0][0].metadata
    assert metadata.request_id == "device-7/session-3" == job.request_id
    assert metadata.options.width == 576
    assert metadata.options.dither == voxprint_pb2.DITHER_ATKINSON


def test_submit_of_a_missing_file_fails_before_any_call(client, fake_voxprint, tmp_path):
    with pytest.raises(FileNotFoundError):
        client.submit(tmp_path / "missing.wav")
    assert fake_voxprint.servicer.uploads == []


def test_token_travels_as_bearer_authorization_metadata(fake_voxprint):
    config = ChannelConfig(target=fake_voxprint.target, token="s3cret")
    with VoxprintClient(config) as client:
        client.get(JOB_ID)
    assert fake_voxprint.servicer.call_metadata[0]["authorization"] == "Bearer s3cret"


def test_watch_follows_the_job_until_it_is_terminal(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [[event_at(1, snapshot=True), *map(event_at, range(2, 7))]]
    versions = [event.job.version for event in client.watch(JOB_ID)]
    assert versions == [1, 2, 3, 4, 5, 6]


def test_watch_resumes_a_dropped_stream_without_repeating_events(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [
        [event_at(1, snapshot=True), event_at(2), event_at(3), grpc.StatusCode.UNAVAILABLE],
        [event_at(3, snapshot=True), event_at(4), event_at(5), event_at(6)],
    ]
    events = list(client.watch(JOB_ID))
    assert [event.job.version for event in events] == [1, 2, 3, 4, 5, 6]
    assert fake_voxprint.servicer.watch_calls == 2


def test_watch_resumes_a_stream_that_ends_before_the_job_does(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [
        [event_at(1, snapshot=True), event_at(2)],
        [event_at(4, snapshot=True), event_at(5), event_at(6)],
    ]
    versions = [event.job.version for event in client.watch(JOB_ID)]
    assert versions == [1, 2, 4, 5, 6]


def test_watch_gives_up_after_repeated_drops_without_progress(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [[event_at(1, snapshot=True), grpc.StatusCode.UNAVAILABLE]]
    with pytest.raises(Unavailable, match="lost the watch"):
        list(client.watch(JOB_ID))
    assert fake_voxprint.servicer.watch_calls == FAST_RESUME.max_attempts + 1


def test_watch_of_an_unknown_job_raises_not_found_without_retrying(client, fake_voxprint):
    with pytest.raises(NotFound) as raised:
        list(client.watch("00000000-0000-0000-0000-000000000000"))
    assert raised.value.code == grpc.StatusCode.NOT_FOUND
    assert "no job" in raised.value.message
    assert len(fake_voxprint.servicer.call_metadata) == 1


def test_wait_returns_the_terminal_job(client, fake_voxprint):
    fake_voxprint.servicer.watch_scripts = [[event_at(5, snapshot=True), event_at(6)]]
    assert client.wait(JOB_ID, timeout=5) == job_at(6)


def test_wait_times_out_when_the_job_does_not_finish(client, fake_voxprint):
    # A stream that keeps ending early: the client keeps resuming until the deadline.
    fake_voxprint.servicer.watch_scripts = [[event_at(1, snapshot=True)]]
    patient = VoxprintClient(
        fake_voxprint.target, resume_policy=ResumePolicy(max_attempts=10**6, first_delay=0.01, max_delay=0.01)
    )
    with patient, pytest.raises(DeadlineExceeded, match="did not finish within 0.3 s"):
        patient.wait(JOB_ID, timeout=0.3)


@pytest.mark.parametrize(
    ("format", "expected"),
    [
        ("png", voxprint_pb2.FORMAT_PNG),
        ("RAW", voxprint_pb2.FORMAT_RAW),
        (voxprint_pb2.FORMAT_PREVIEW, voxprint_pb2.FORMAT_PREVIEW),
    ],
)
def test_fetch_accepts_format_names_and_enum_values(client, fake_voxprint, format, expected):
    client.fetch(JOB_ID, format)
    assert fake_voxprint.servicer.fetch_requests[0].format == expected


def test_fetch_rejects_an_unknown_format_locally(client, fake_voxprint):
    with pytest.raises(ValueError, match="choose from png, raw, preview"):
        client.fetch(JOB_ID, "jpeg")
    assert fake_voxprint.servicer.fetch_requests == []


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (grpc.StatusCode.FAILED_PRECONDITION, NotReady),
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgument),
        (grpc.StatusCode.NOT_FOUND, NotFound),
        (grpc.StatusCode.DATA_LOSS, VoxprintError),
    ],
)
def test_server_errors_become_typed_exceptions_keeping_code_and_message(client, fake_voxprint, code, error_class):
    fake_voxprint.servicer.fetch_error = (code, "job is TRANSCRIBING")
    with pytest.raises(error_class) as raised:
        client.fetch(JOB_ID, "png")
    assert (raised.value.code, raised.value.message) == (code, "job is TRANSCRIBING")


def test_iter_jobs_walks_every_page(fake_voxprint):
    fake_voxprint.servicer.jobs = [voxprint_pb2.Job(id=f"job-{n}") for n in range(1203)]
    with VoxprintClient(fake_voxprint.target) as client:
        ids = [job.id for job in client.iter_jobs()]
    assert ids == [f"job-{n}" for n in range(1203)]


def test_list_returns_one_page_and_the_next_token(client, fake_voxprint):
    fake_voxprint.servicer.jobs = [voxprint_pb2.Job(id=f"job-{n}") for n in range(5)]
    page = client.list(page_size=2, state="completed")
    assert [job.id for job in page.jobs] == ["job-0", "job-1"]
    assert page.next_page_token == "2"


def test_an_unreachable_server_raises_unavailable():
    config = ChannelConfig(target=f"127.0.0.1:{free_port()}", timeout=5)
    with VoxprintClient(config) as client, pytest.raises(Unavailable):
        client.get(JOB_ID)


def test_config_from_env_reads_server_and_token(monkeypatch):
    monkeypatch.setenv("VOXPRINT_SERVER", "printer-hub:6000")
    monkeypatch.setenv("VOXPRINT_TOKEN", "abc")
    config = ChannelConfig.from_env(timeout=3.0)
    assert (config.target, config.token, config.timeout) == ("printer-hub:6000", "abc", 3.0)
    assert config.call_metadata() == (("authorization", "Bearer abc"),)


# --- against the real server --------------------------------------------------------------------

PIPELINE_ORDER = [
    voxprint_pb2.JOB_STATE_PENDING,
    voxprint_pb2.JOB_STATE_TRANSCRIBING,
    voxprint_pb2.JOB_STATE_TRANSCRIBED,
    voxprint_pb2.JOB_STATE_GENERATING_IMAGE,
    voxprint_pb2.JOB_STATE_RASTERIZING,
    voxprint_pb2.JOB_STATE_COMPLETED,
]


@pytest.mark.slow
def test_submit_watch_fetch_on_the_real_server(server_factory, speech_wav):
    server = server_factory()
    with VoxprintClient(server.target) as client:
        job = client.submit(speech_wav)
        events = list(client.watch(job.id, timeout=120))
        png = client.fetch(job.id, "png")
        raw = client.fetch(job.id, voxprint_pb2.FORMAT_RAW)

    states = [event.job.state for event in events]
    assert states == sorted(states, key=PIPELINE_ORDER.index)
    assert states[-1] == voxprint_pb2.JOB_STATE_COMPLETED
    assert "penguins" in events[-1].job.transcript
    assert png.content_type == "image/png"
    assert raw.data == rasterizer.rasterize(png.data).data


@pytest.mark.slow
def test_a_recording_over_grpcs_4_mib_message_cap_uploads(server_factory):
    server = server_factory(transcriber=ScriptedTranscriber("a long silence"), illustrator=ScriptedIllustrator())
    recording = wav_bytes(30.0, rate=48_000, channels=2)  # 5.8 MB, within the 60 s limit
    with VoxprintClient(server.target) as client:
        job = client.wait(client.submit(recording, filename="long.wav").id, timeout=60)
    assert job.audio_size_bytes == len(recording)
    assert job.transcript == "a long silence"


@pytest.mark.slow
def test_resubmitting_with_a_request_id_returns_the_same_job(server_factory):
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    with VoxprintClient(server.target) as client:
        first = client.submit(wav_bytes(0.5), request_id="kitchen/42")
        again = client.submit(wav_bytes(0.5), request_id="kitchen/42")
        assert again.id == first.id
        assert [job.id for job in client.iter_jobs()] == [first.id]


@pytest.mark.slow
def test_fetch_before_the_picture_exists_raises_not_ready(server_factory):
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(gate=gate))
    try:
        with VoxprintClient(server.target) as client:
            job = client.submit(wav_bytes(0.5))
            with pytest.raises(NotReady) as raised:
                client.fetch(job.id, "png")
    finally:
        gate.set()
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.slow
def test_watch_resumes_across_a_server_restart(server_factory):
    listen = f"127.0.0.1:{free_port()}"
    backends = {"transcriber": ScriptedTranscriber("a cat"), "illustrator": ScriptedIllustrator()}
    idle = server_factory(listen=listen, workers=0, **backends)  # keeps the job PENDING
    patient = ResumePolicy(max_attempts=100, first_delay=0.05, max_delay=0.2)
    with VoxprintClient(idle.target, resume_policy=patient) as client:
        job = client.submit(wav_bytes(0.5))
        events = client.watch(job.id, timeout=60)
        first = next(events)
        idle.stop()  # the open stream drops here
        server_factory(listen=listen, **backends)  # same port, same database: the job runs
        rest = list(events)

    versions = [event.job.version for event in (first, *rest)]
    assert first.job.state == voxprint_pb2.JOB_STATE_PENDING
    assert versions == sorted(set(versions))
    assert rest[-1].job.state == voxprint_pb2.JOB_STATE_COMPLETED
    assert rest[-1].job.transcript == "a cat"


@pytest.mark.slow
def test_the_token_opens_a_guarded_server(guarded_server):
    with VoxprintClient(ChannelConfig(target=guarded_server.target, token=GUARD_TOKEN)) as client:
        job = client.wait(client.submit(wav_bytes(0.5)).id, timeout=30)
    assert job.state == voxprint_pb2.JOB_STATE_COMPLETED


@pytest.mark.slow
def test_a_wrong_token_is_unauthenticated(guarded_server):
    with VoxprintClient(ChannelConfig(target=guarded_server.target, token="guess")) as client:
        with pytest.raises(Unauthenticated):
            client.list()


@pytest.mark.slow
def test_tls_with_the_servers_root_certificate(server_factory, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    server = server_factory(
        tls_cert=cert, tls_key=key, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator()
    )
    with VoxprintClient(ChannelConfig(target=server.target, root_certificates=cert.read_bytes())) as client:
        assert list(client.iter_jobs()) == []


def test_draw_makes_a_job_of_the_phrase_on_the_real_server(server_factory):
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    with VoxprintClient(server.target) as client:
        job = client.draw("a dragon", dither="atkinson")
        finished = client.wait(job.id, timeout=30)
        with pytest.raises(InvalidArgument, match="empty"):
            client.draw("   ")
    assert (finished.state, finished.transcript) == (voxprint_pb2.JOB_STATE_COMPLETED, "a dragon")
    assert finished.options.dither == voxprint_pb2.DITHER_ATKINSON
