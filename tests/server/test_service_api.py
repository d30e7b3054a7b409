"""Specification of the gRPC API's behaviour, with scripted backends so each test is quick."""

from __future__ import annotations

import io
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from PIL import Image

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests, watch_events
from voxprint import rasterizer
from voxprint.v1 import voxprint_pb2 as pb

RECORDING = wav_bytes(0.5)


@pytest.fixture
def gate() -> threading.Event:
    """Holds the scripted transcriber until a test opens it."""
    return threading.Event()


@pytest.fixture
def service(server_factory):
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


@pytest.fixture
def gated_service(server_factory, gate):
    opened = server_factory(transcriber=ScriptedTranscriber(gate=gate), illustrator=ScriptedIllustrator())
    yield opened
    gate.set()


def rpc_error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def until_state(stub, job_id: str, state: int) -> None:
    for event in stub.Watch(pb.WatchRequest(job_id=job_id), timeout=30):
        if event.job.state == state:
            return
    raise AssertionError(f"job never reached {pb.JobState.Name(state)}")


def finished(stub, job_id: str) -> pb.Job:
    return watch_events(stub, job_id)[-1].job


def test_submit_returns_a_pending_job_with_the_recording_described(gated_service):
    job = gated_service.stub.Submit(submit_requests(RECORDING, filename="kitchen.wav"))
    assert job.state == pb.JOB_STATE_PENDING
    assert (job.filename, job.content_type, job.audio_size_bytes) == ("kitchen.wav", "audio/wav", len(RECORDING))
    assert job.audio_duration_seconds == pytest.approx(0.5, abs=0.01)
    assert (job.options.width, job.options.dither) == (384, pb.DITHER_FLOYD_STEINBERG)


def test_watch_sees_every_stage_in_order_and_then_ends(gated_service, gate):
    job = gated_service.stub.Submit(submit_requests(RECORDING))
    stream = gated_service.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=30)
    snapshot = next(stream)
    gate.set()
    changes = list(stream)
    states = [event.job.state for event in [snapshot, *changes]]
    pipeline_order = [
        pb.JOB_STATE_PENDING,
        pb.JOB_STATE_TRANSCRIBING,
        pb.JOB_STATE_TRANSCRIBED,
        pb.JOB_STATE_GENERATING_IMAGE,
        pb.JOB_STATE_RASTERIZING,
        pb.JOB_STATE_COMPLETED,
    ]
    assert snapshot.snapshot and not any(event.snapshot for event in changes)
    assert states == pipeline_order[pipeline_order.index(snapshot.job.state) :]
    assert [event.job.version for event in changes] == list(
        range(snapshot.job.version + 1, changes[-1].job.version + 1)
    )


def test_watching_a_finished_job_gives_one_snapshot(service):
    job = service.stub.Submit(submit_requests(RECORDING))
    finished(service.stub, job.id)
    events = watch_events(service.stub, job.id)
    assert len(events) == 1 and events[0].snapshot and events[0].job.state == pb.JOB_STATE_COMPLETED


def test_completed_job_records_backends_timings_and_sizes(service):
    job = finished(service.stub, service.stub.Submit(submit_requests(RECORDING)).id)
    assert job.transcript == "a cat and a dog" and not job.error
    assert (job.backends.transcriber, job.backends.illustrator) == ("scripted-stt", "scripted-image")
    assert [timing.stage for timing in job.timings] == [pb.STAGE_TRANSCRIBE, pb.STAGE_ILLUSTRATE, pb.STAGE_RASTERIZE]
    assert (job.image.width, job.image.height) == (640, 480)
    assert (job.raster.width, job.raster.height, job.raster.bytes_per_row) == (384, 288, 48)


def test_fetch_raw_is_the_rasterizer_applied_to_the_stored_png(service):
    job = finished(service.stub, service.stub.Submit(submit_requests(RECORDING)).id)
    png = service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
    raw = service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW))
    expected = rasterizer.rasterize(png.data)
    assert raw.data == expected.data
    assert (raw.width, raw.height, raw.bytes_per_row) == (384, expected.height, 48)
    assert len(raw.data) == 48 * raw.height


def test_fetch_preview_is_a_png_of_the_raster_size(service):
    job = finished(service.stub, service.stub.Submit(submit_requests(RECORDING)).id)
    preview = service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PREVIEW))
    assert preview.content_type == "image/png"
    assert Image.open(io.BytesIO(preview.data)).size == (job.raster.width, job.raster.height)


def test_print_options_choose_width_and_dither(service):
    job = service.stub.Submit(submit_requests(RECORDING, width=576, dither=pb.DITHER_ATKINSON))
    done = finished(service.stub, job.id)
    raw = service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW))
    png = service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
    assert (done.raster.width, done.raster.bytes_per_row) == (576, 72)
    assert raw.data == rasterizer.rasterize(png.data, width=576, dither="atkinson").data


@pytest.mark.parametrize("width", [100, 4, 4096])
def test_unusable_printer_width_is_invalid_argument(service, width):
    error = rpc_error(lambda: service.stub.Submit(submit_requests(RECORDING, width=width)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "multiple of 8" in error.details()


def test_resubmitting_a_request_id_returns_the_same_job_and_stores_nothing_new(service):
    first = service.stub.Submit(submit_requests(RECORDING, request_id="device-7/session-42"))
    again = service.stub.Submit(submit_requests(RECORDING, request_id="device-7/session-42"))
    assert again.id == first.id
    assert len(service.stub.ListJobs(pb.ListJobsRequest()).jobs) == 1
    assert len(service.stored_media("audio")) == 1


def test_concurrent_submits_with_one_request_id_make_one_job(service):
    with ThreadPoolExecutor(8) as pool:
        jobs = list(pool.map(lambda _: service.stub.Submit(submit_requests(RECORDING, request_id="same")), range(8)))
    assert len({job.id for job in jobs}) == 1
    assert len(service.stored_media("audio")) == 1


def test_recording_larger_than_one_grpc_message_is_accepted(service):
    recording = wav_bytes(50.0, rate=48_000, channels=2)  # 9.6 MB, over gRPC's 4 MiB default message cap
    job = service.stub.Submit(submit_requests(recording, chunk_size=1024 * 1024))
    assert job.audio_size_bytes == len(recording)


def test_upload_over_the_size_limit_is_resource_exhausted_and_leaves_nothing(server_factory):
    small = server_factory(
        max_upload_bytes=10_000, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator()
    )
    error = rpc_error(lambda: small.stub.Submit(submit_requests(wav_bytes(1.0), chunk_size=4096)))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "10000 bytes" in error.details()
    assert not small.stub.ListJobs(pb.ListJobsRequest()).jobs
    assert small.stored_media("audio") == []


@pytest.mark.parametrize(
    "data, reason",
    [(b"", "empty"), (b"just some text, not audio" * 40, "not a readable recording")],
    ids=["empty", "not-audio"],
)
def test_unusable_upload_is_invalid_argument_and_creates_no_job(service, data, reason):
    error = rpc_error(lambda: service.stub.Submit(submit_requests(data)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and reason in error.details()
    assert not service.stub.ListJobs(pb.ListJobsRequest()).jobs


def test_recording_that_cannot_be_stored_is_unavailable_without_a_server_path(service):
    audio_folder = service.settings.media_dir / "audio"
    shutil.rmtree(audio_folder, ignore_errors=True)
    audio_folder.parent.mkdir(parents=True, exist_ok=True)
    audio_folder.write_text("a file where the folder should be")
    error = rpc_error(lambda: service.stub.Submit(submit_requests(RECORDING)))
    assert error.code() == grpc.StatusCode.UNAVAILABLE and "cannot store the recording" in error.details()
    assert str(service.settings.data_dir) not in error.details() and "Traceback" not in error.details()
    assert not service.stub.ListJobs(pb.ListJobsRequest()).jobs


def test_submit_without_metadata_first_is_invalid_argument(service):
    error = rpc_error(lambda: service.stub.Submit(iter([pb.SubmitRequest(audio_chunk=RECORDING)])))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "metadata" in error.details()


MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "call",
    [
        lambda stub: stub.GetJob(pb.GetJobRequest(job_id=MISSING)),
        lambda stub: list(stub.Watch(pb.WatchRequest(job_id=MISSING))),
        lambda stub: stub.Fetch(pb.FetchRequest(job_id=MISSING, format=pb.FORMAT_PNG)),
    ],
    ids=["GetJob", "Watch", "Fetch"],
)
def test_unknown_job_is_not_found(service, call):
    error = rpc_error(lambda: call(service.stub))
    assert error.code() == grpc.StatusCode.NOT_FOUND and MISSING in error.details()


def test_malformed_job_id_is_invalid_argument(service):
    error = rpc_error(lambda: service.stub.GetJob(pb.GetJobRequest(job_id="../../etc/passwd")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_fetch_before_the_image_exists_says_not_ready_with_the_state(gated_service):
    job = gated_service.stub.Submit(submit_requests(RECORDING))
    error = rpc_error(lambda: gated_service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "not ready" in error.details() and ("pending" in error.details() or "transcribing" in error.details())


@pytest.mark.parametrize("format", [pb.FORMAT_UNSPECIFIED, 99])
def test_fetch_without_a_known_format_is_invalid_argument(service, format):
    job = service.stub.Submit(submit_requests(RECORDING))
    error = rpc_error(lambda: service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=format)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_failed_transcription_fails_the_job_with_its_message(server_factory):
    failing = server_factory(
        transcriber=ScriptedTranscriber(fail="the microphone was unplugged"), illustrator=ScriptedIllustrator()
    )
    job = finished(failing.stub, failing.stub.Submit(submit_requests(RECORDING)).id)
    assert job.state == pb.JOB_STATE_FAILED and job.error_stage == pb.STAGE_TRANSCRIBE
    assert job.error == "speech-to-text failed: the microphone was unplugged"
    error = rpc_error(lambda: failing.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "unplugged" in error.details()


def test_empty_transcript_fails_the_job_instead_of_drawing_nothing(server_factory):
    silent = server_factory(transcriber=ScriptedTranscriber("  "), illustrator=ScriptedIllustrator())
    job = finished(silent.stub, silent.stub.Submit(submit_requests(RECORDING)).id)
    assert job.state == pb.JOB_STATE_FAILED and "no speech" in job.error


def test_failed_image_keeps_the_transcript_and_fetch_says_why(server_factory):
    broken = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(fail="quota exceeded"))
    job = finished(broken.stub, broken.stub.Submit(submit_requests(RECORDING)).id)
    assert job.state == pb.JOB_STATE_COMPLETED and job.transcript == "a cat and a dog"
    assert job.error == "image generation failed: quota exceeded" and job.error_stage == pb.STAGE_ILLUSTRATE
    assert not job.HasField("image")
    error = rpc_error(lambda: broken.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "quota exceeded" in error.details()


def test_image_that_does_not_decode_is_an_image_failure(server_factory):
    garbage = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(b"not a picture"))
    job = finished(garbage.stub, garbage.stub.Submit(submit_requests(RECORDING)).id)
    assert job.state == pb.JOB_STATE_COMPLETED and job.error.startswith(
        "image generation failed: the picture could not be decoded"
    )


def test_picture_that_cannot_be_stored_is_an_image_failure_not_a_stuck_job(service):
    image_folder = service.settings.media_dir / "image"
    shutil.rmtree(image_folder, ignore_errors=True)
    image_folder.parent.mkdir(parents=True, exist_ok=True)
    image_folder.write_text("a file where the folder should be")
    job = finished(service.stub, service.stub.Submit(submit_requests(RECORDING)).id)
    assert job.state == pb.JOB_STATE_COMPLETED and job.transcript == "a cat and a dog"
    assert job.error_stage == pb.STAGE_ILLUSTRATE and job.error.startswith("image generation failed: media")


def test_jpeg_from_a_backend_is_stored_as_png(server_factory):
    jpeg = io.BytesIO()
    Image.new("RGB", (320, 200), "gray").save(jpeg, format="JPEG")
    jpeg_service = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(jpeg.getvalue()))
    job = finished(jpeg_service.stub, jpeg_service.stub.Submit(submit_requests(RECORDING)).id)
    png = jpeg_service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_PNG))
    assert png.data.startswith(b"\x89PNG") and (png.width, png.height) == (320, 200)
    assert job.raster.height == 240


def test_list_jobs_pages_newest_first(service):
    ids = [service.stub.Submit(submit_requests(RECORDING)).id for _ in range(5)]
    first = service.stub.ListJobs(pb.ListJobsRequest(page_size=2))
    second = service.stub.ListJobs(pb.ListJobsRequest(page_size=2, page_token=first.next_page_token))
    third = service.stub.ListJobs(pb.ListJobsRequest(page_size=2, page_token=second.next_page_token))
    listed = [job.id for page in (first, second, third) for job in page.jobs]
    assert listed == ids[::-1] and third.next_page_token == ""


def test_list_jobs_filters_by_state(server_factory):
    failing = server_factory(transcriber=ScriptedTranscriber(fail="no"), illustrator=ScriptedIllustrator())
    job = finished(failing.stub, failing.stub.Submit(submit_requests(RECORDING)).id)
    assert [j.id for j in failing.stub.ListJobs(pb.ListJobsRequest(state=pb.JOB_STATE_FAILED)).jobs] == [job.id]
    assert not failing.stub.ListJobs(pb.ListJobsRequest(state=pb.JOB_STATE_COMPLETED)).jobs


def test_page_size_over_the_limit_is_invalid_argument(service):
    error = rpc_error(lambda: service.stub.ListJobs(pb.ListJobsRequest(page_size=501)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "between 1 and 500" in error.details()


def test_forged_page_token_is_invalid_argument(service):
    error = rpc_error(lambda: service.stub.ListJobs(pb.ListJobsRequest(page_token="bm90IGEgdG9rZW4=")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_hundred_watchers_of_one_job_all_see_the_same_events(gated_service, gate):
    job = gated_service.stub.Submit(submit_requests(RECORDING))
    # Every watcher subscribes while the job is held in TRANSCRIBING, so all start from one state.
    until_state(gated_service.stub, job.id, pb.JOB_STATE_TRANSCRIBING)
    ready = threading.Barrier(101)

    def watch() -> list[tuple[int, int]]:
        stream = gated_service.stub.Watch(pb.WatchRequest(job_id=job.id), timeout=60)
        events = [next(stream)]
        ready.wait()
        events.extend(stream)
        return [(event.job.version, event.job.state) for event in events if not event.snapshot]

    with ThreadPoolExecutor(100) as pool:
        watchers = [pool.submit(watch) for _ in range(100)]
        ready.wait()
        gate.set()
        seen = [watcher.result() for watcher in watchers]
    assert seen[0][-1][1] == pb.JOB_STATE_COMPLETED
    assert all(sequence == seen[0] for sequence in seen)


def test_health_service_reports_serving(service):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    health = health_pb2_grpc.HealthStub(service.channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="voxprint.v1.Voxprint"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_voxprint_service_for_grpcurl(service):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    reflection = reflection_pb2_grpc.ServerReflectionStub(service.channel)
    replies = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {entry.name for reply in replies for entry in reply.list_services_response.service}
    assert "voxprint.v1.Voxprint" in names and "grpc.health.v1.Health" in names
