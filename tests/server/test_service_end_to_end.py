"""The whole product on its offline defaults: spoken WAV in, transcript, picture and raster out."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.support.servers import submit_requests, watch_events
from tests.support.speech import speak
from voxprint import rasterizer
from voxprint.v1 import voxprint_pb2 as pb

pytestmark = pytest.mark.slow


@pytest.fixture
def offline_job(server_factory, speech_wav):
    """A spoken recording pushed through a default server, with every Watch event it produced."""
    server = server_factory()
    job = server.stub.Submit(submit_requests(speech_wav.read_bytes(), filename="penguins.wav"))
    return server, watch_events(server.stub, job.id)


def test_offline_defaults_transcribe_and_draw_the_spoken_phrase(offline_job):
    server, events = offline_job
    job = events[-1].job
    assert job.state == pb.JOB_STATE_COMPLETED and not job.error
    assert "penguin" in job.transcript.lower() and "beach" in job.transcript.lower()
    assert job.backends.transcriber == "whisper:base" and job.backends.illustrator == "pictogram"


def test_watch_reports_each_stage_once_in_order(offline_job):
    _, events = offline_job
    states = [event.job.state for event in events]
    assert states[-4:] == [
        pb.JOB_STATE_TRANSCRIBED,
        pb.JOB_STATE_GENERATING_IMAGE,
        pb.JOB_STATE_RASTERIZING,
        pb.JOB_STATE_COMPLETED,
    ]
    assert len(states) == len(set(states))


def test_fetched_results_are_the_stored_picture_its_raster_and_preview(offline_job):
    server, events = offline_job
    job_id = events[-1].job.id
    png, raw, preview = (
        server.stub.Fetch(pb.FetchRequest(job_id=job_id, format=format))
        for format in (pb.FORMAT_PNG, pb.FORMAT_RAW, pb.FORMAT_PREVIEW)
    )
    Image.open(io.BytesIO(png.data)).verify()
    assert len(raw.data) == 48 * raw.height and raw.bytes_per_row == 48 and raw.width == 384
    assert raw.data == rasterizer.rasterize(png.data).data
    assert Image.open(io.BytesIO(preview.data)).size == (384, raw.height)


def test_stereo_44k_24bit_recording_is_transcribed(server_factory, tmp_path):
    """Whisper needs 16 kHz mono; the backend resamples and downmixes whatever arrives."""
    import av

    source = speak("a red apple", tmp_path / "apple.wav")
    converted = tmp_path / "apple-44k-stereo.wav"
    with av.open(str(source)) as inp, av.open(str(converted), "w", format="wav") as out:
        stream = out.add_stream("pcm_s24le", rate=44100, layout="stereo")
        resampler = av.AudioResampler(format="s32", layout="stereo", rate=44100)
        for frame in inp.decode(audio=0):
            for resampled in resampler.resample(frame):
                out.mux(stream.encode(resampled))
        out.mux(stream.encode(None))
    server = server_factory()
    job = server.stub.Submit(submit_requests(converted.read_bytes()))
    done = watch_events(server.stub, job.id)[-1].job
    assert "apple" in done.transcript.lower(), done.transcript
    assert job.audio_duration_seconds == pytest.approx(av.open(str(source)).duration / 1e6, abs=0.05)
