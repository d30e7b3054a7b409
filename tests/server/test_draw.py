"""Specification of Draw: a job made from a phrase instead of a recording, served like any other."""

from __future__ import annotations

import grpc
import pytest

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import watch_events
from voxprint.server.jobs import MAX_PHRASE_LENGTH
from voxprint.v1 import voxprint_pb2 as pb


@pytest.fixture
def transcriber() -> ScriptedTranscriber:
    return ScriptedTranscriber()


@pytest.fixture
def illustrator() -> ScriptedIllustrator:
    return ScriptedIllustrator()


@pytest.fixture
def service(server_factory, transcriber, illustrator):
    return server_factory(transcriber=transcriber, illustrator=illustrator)


def draw(service, phrase: str = "a dragon eating ice cream", **fields) -> pb.Job:
    return service.stub.Draw(pb.DrawRequest(phrase=phrase, **fields), timeout=30)


def refusal(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value


def test_a_drawn_phrase_starts_transcribed_with_the_phrase_as_its_transcript(service):
    job = draw(service)
    assert (job.state, job.transcript) == (pb.JOB_STATE_TRANSCRIBED, "a dragon eating ice cream")
    assert (job.filename, job.content_type, job.audio_size_bytes) == ("", "text/plain", 0)
    assert job.backends.transcriber == "text"


def test_a_drawn_phrase_goes_on_to_the_picture_and_raster_without_speech_to_text(service, transcriber, illustrator):
    job = draw(service)
    states = [event.job.state for event in watch_events(service.stub, job.id)]
    assert states[-3:] == [pb.JOB_STATE_GENERATING_IMAGE, pb.JOB_STATE_RASTERIZING, pb.JOB_STATE_COMPLETED]
    assert pb.JOB_STATE_TRANSCRIBING not in states
    raw = service.stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW), timeout=30)
    assert (raw.width, raw.bytes_per_row, len(raw.data)) == (384, 48, 48 * raw.height)
    assert transcriber.calls == [] and illustrator.calls == ["a dragon eating ice cream"]


def test_runs_of_white_space_in_the_phrase_are_folded(service):
    assert draw(service, "  a red\tballoon\n over\u00a0the sea ").transcript == "a red balloon over the sea"


def test_print_options_are_taken_as_for_a_recording(service):
    job = draw(service, options=pb.PrintOptions(width=576, dither=pb.DITHER_ATKINSON))
    assert (job.options.width, job.options.dither) == (576, pb.DITHER_ATKINSON)


def test_the_same_request_id_draws_once(service, illustrator):
    first = draw(service, request_id="dragon-1")
    again = draw(service, "something else entirely", request_id="dragon-1")
    assert again.id == first.id and again.transcript == first.transcript
    watch_events(service.stub, first.id)
    assert illustrator.calls == ["a dragon eating ice cream"]


@pytest.mark.parametrize(
    "phrase, reason",
    [
        ("", "empty"),
        (" \t\n", "empty"),
        ("x" * (MAX_PHRASE_LENGTH + 1), f"longer than {MAX_PHRASE_LENGTH}"),
        ("a cat\x1b[31m in red", "control characters"),
        ("a cat\u200b", "control characters"),
    ],
)
def test_a_phrase_that_cannot_be_drawn_is_an_invalid_argument_saying_why(service, phrase, reason):
    error = refusal(lambda: draw(service, phrase))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and reason in error.details()


def test_a_bad_width_is_an_invalid_argument(service):
    error = refusal(lambda: draw(service, options=pb.PrintOptions(width=13)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_phrase_of_the_longest_length_is_drawn(service):
    assert draw(service, "y" * MAX_PHRASE_LENGTH).state == pb.JOB_STATE_TRANSCRIBED


def test_drawn_jobs_are_listed_with_recorded_ones(service):
    job = draw(service)
    listed = service.stub.ListJobs(pb.ListJobsRequest(), timeout=30)
    assert [listed_job.id for listed_job in listed.jobs] == [job.id]
