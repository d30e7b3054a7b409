"""The whole service on the cloud backends: a spoken WAV goes in over gRPC, through the real
``assemblyai`` and ``google-genai`` SDKs to the local fakes, and comes out as a transcript, a
picture and a raster — or as a job whose error says which service failed and how."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from PIL import Image

from tests.support.fakes.assemblyai import SCENARIOS as ASSEMBLYAI_SCENARIOS
from tests.support.fakes.assemblyai import UPLOAD_PATH, FakeAssemblyAI
from tests.support.fakes.gemini import IMAGE_SIZES, FakeGemini
from tests.support.fakes.gemini import SCENARIOS as GEMINI_SCENARIOS
from tests.support.servers import RunningServer, submit_requests, watch_events
from voxprint import rasterizer
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = [
    pytest.mark.slow,
    # The assemblyai SDK still calls pydantic's v1 API; its deprecation warnings are not ours to fix.
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
]

RETRY_ATTEMPTS = 3
STAGES_IN_ORDER = [
    pb.JOB_STATE_TRANSCRIBING,
    pb.JOB_STATE_TRANSCRIBED,
    pb.JOB_STATE_GENERATING_IMAGE,
    pb.JOB_STATE_RASTERIZING,
    pb.JOB_STATE_COMPLETED,
]


@pytest.fixture
def cloud_server(
    server_factory: Callable[..., RunningServer],
    assemblyai_fake: FakeAssemblyAI,
    gemini_fake: FakeGemini,
    keys_never_logged: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> RunningServer:
    """A server whose backends were chosen by ``auto`` from the keys in the environment and
    aimed at the fakes, with fast retries."""
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", assemblyai_fake.api_key)
    monkeypatch.setenv("GOOGLE_API_KEY", gemini_fake.api_key)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    keys_never_logged.extend([assemblyai_fake.api_key, gemini_fake.api_key])
    cloud = {
        "assemblyai_base_url": assemblyai_fake.url,
        "assemblyai_poll_interval": 0.01,
        "gemini_base_url": gemini_fake.url,
        "cloud_retry_attempts": RETRY_ATTEMPTS,
        "cloud_retry_initial_delay": 0.01,
    }
    return server_factory(transcriber="auto", illustrator="auto", **cloud)


def run_job(server: RunningServer, recording: Path) -> list[pb.JobEvent]:
    """Submit the recording and return every Watch event until the job is finished."""
    job = server.stub.Submit(submit_requests(recording.read_bytes(), filename=recording.name))
    return watch_events(server.stub, job.id, timeout=60)


def fetch(server: RunningServer, job_id: str, format: pb.Format) -> pb.FetchResponse:
    return server.stub.Fetch(pb.FetchRequest(job_id=job_id, format=format))


def assert_no_key_in(events: list[pb.JobEvent], keys: list[str]) -> None:
    for event in events:
        text = str(event.job)  # every field, in protobuf text format
        for key in keys:
            assert key not in text


def test_a_spoken_recording_becomes_a_picture_through_both_cloud_services(
    cloud_server: RunningServer,
    assemblyai_fake: FakeAssemblyAI,
    gemini_fake: FakeGemini,
    speech_wav: Path,
    keys_never_logged: list[str],
) -> None:
    events = run_job(cloud_server, speech_wav)

    job = events[-1].job
    assert [event.job.state for event in events if event.job.state in STAGES_IN_ORDER] == STAGES_IN_ORDER
    assert (job.state, job.error, job.transcript) == (pb.JOB_STATE_COMPLETED, "", assemblyai_fake.text)
    assert job.backends.transcriber == "assemblyai"
    assert job.backends.illustrator == "gemini:gemini-2.5-flash-image"
    assert list(assemblyai_fake.uploads.values()) == [speech_wav.read_bytes()]
    (generate,) = gemini_fake.requests()
    assert assemblyai_fake.text in generate.json()["contents"][0]["parts"][0]["text"]
    assert_no_key_in(events, keys_never_logged)


def test_the_cloud_picture_is_fetched_as_png_raster_and_preview(cloud_server: RunningServer, speech_wav: Path) -> None:
    job_id = run_job(cloud_server, speech_wav)[-1].job.id

    png, raw, preview = (
        fetch(cloud_server, job_id, format) for format in (pb.FORMAT_PNG, pb.FORMAT_RAW, pb.FORMAT_PREVIEW)
    )

    assert Image.open(io.BytesIO(png.data)).size == IMAGE_SIZES["3:4"]
    assert (raw.width, raw.bytes_per_row, len(raw.data)) == (384, 48, 48 * raw.height)
    assert raw.data == rasterizer.rasterize(png.data).data
    assert Image.open(io.BytesIO(preview.data)).size == (384, raw.height)


def test_the_picture_reaches_the_rasterizer_already_decoded(
    cloud_server: RunningServer, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[object] = []

    def recording_rasterize(image: rasterizer.ImageInput, **options: Any) -> rasterizer.Raster:
        given.append(image)
        return real_rasterize(image, **options)

    real_rasterize = rasterizer.rasterize
    monkeypatch.setattr(rasterizer, "rasterize", recording_rasterize)

    job = run_job(cloud_server, speech_wav)[-1].job

    assert job.state == pb.JOB_STATE_COMPLETED
    (image,) = given
    assert isinstance(image, Image.Image)
    assert image.size == IMAGE_SIZES["3:4"]


def test_a_jpeg_from_gemini_is_stored_as_png_and_rasterized(
    cloud_server: RunningServer, gemini_fake: FakeGemini, speech_wav: Path
) -> None:
    GEMINI_SCENARIOS["jpeg"](gemini_fake)

    job = run_job(cloud_server, speech_wav)[-1].job

    assert (job.state, job.error) == (pb.JOB_STATE_COMPLETED, "")
    png = fetch(cloud_server, job.id, pb.FORMAT_PNG)
    assert Image.open(io.BytesIO(png.data)).format == "PNG"
    assert job.raster.height > 0


def test_rate_limited_speech_to_text_is_retried_within_the_job(
    cloud_server: RunningServer, assemblyai_fake: FakeAssemblyAI, speech_wav: Path
) -> None:
    ASSEMBLYAI_SCENARIOS["rate-limited-then-success"](assemblyai_fake)  # two 429s

    job = run_job(cloud_server, speech_wav)[-1].job

    assert (job.state, job.transcript) == (pb.JOB_STATE_COMPLETED, assemblyai_fake.text)
    assert len(assemblyai_fake.requests("POST", UPLOAD_PATH)) == 3


def test_a_failed_transcription_fails_the_job_and_never_calls_gemini(
    cloud_server: RunningServer,
    assemblyai_fake: FakeAssemblyAI,
    gemini_fake: FakeGemini,
    speech_wav: Path,
    keys_never_logged: list[str],
) -> None:
    ASSEMBLYAI_SCENARIOS["transcript-error"](assemblyai_fake)

    events = run_job(cloud_server, speech_wav)

    job = events[-1].job
    assert (job.state, job.error_stage) == (pb.JOB_STATE_FAILED, pb.STAGE_TRANSCRIBE)
    assert job.error == (
        "speech-to-text failed: AssemblyAI could not transcribe the recording: "
        "Transcoding failed. File does not appear to contain audio."
    )
    assert gemini_fake.requests() == []
    assert_no_key_in(events, keys_never_logged)


def test_a_rejected_assemblyai_key_fails_the_job_without_retrying(
    cloud_server: RunningServer, assemblyai_fake: FakeAssemblyAI, speech_wav: Path
) -> None:
    assemblyai_fake.api_key = "a-key-the-server-does-not-have"

    job = run_job(cloud_server, speech_wav)[-1].job

    assert job.state == pb.JOB_STATE_FAILED
    assert job.error == "speech-to-text failed: AssemblyAI rejected the API key (401)"
    assert len(assemblyai_fake.requests()) == 1


def test_a_failing_gemini_keeps_the_transcript_and_fetch_says_why_there_is_no_picture(
    cloud_server: RunningServer,
    assemblyai_fake: FakeAssemblyAI,
    gemini_fake: FakeGemini,
    speech_wav: Path,
    keys_never_logged: list[str],
) -> None:
    GEMINI_SCENARIOS["server-error"](gemini_fake)

    events = run_job(cloud_server, speech_wav)

    job = events[-1].job
    expected = "image generation failed: Gemini had a server error (500 INTERNAL); try again later"
    assert (job.state, job.transcript, job.error) == (pb.JOB_STATE_COMPLETED, assemblyai_fake.text, expected)
    assert job.error_stage == pb.STAGE_ILLUSTRATE
    assert len(gemini_fake.requests()) == RETRY_ATTEMPTS
    with pytest.raises(grpc.RpcError) as refused:
        fetch(cloud_server, job.id, pb.FORMAT_PNG)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "Gemini had a server error" in refused.value.details()
    assert all(key not in refused.value.details() for key in keys_never_logged)
    assert_no_key_in(events, keys_never_logged)


def test_a_reply_without_an_image_completes_the_job_with_what_gemini_said(
    cloud_server: RunningServer, gemini_fake: FakeGemini, speech_wav: Path
) -> None:
    GEMINI_SCENARIOS["text-only"](gemini_fake)

    job = run_job(cloud_server, speech_wav)[-1].job

    assert job.state == pb.JOB_STATE_COMPLETED
    assert job.error == (
        "image generation failed: Gemini returned text instead of an image; "
        'it said: "I can\'t draw that, but here is a description."'
    )
