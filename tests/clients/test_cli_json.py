"""``--json`` prints the proto3 canonical JSON mapping of the reply: what ``grpcurl`` prints, which is
``json_format.MessageToDict`` of the same message (lowerCamelCase, enum names, 64-bit ints as strings)."""

from __future__ import annotations

import json

import pytest
from google.protobuf.json_format import MessageToDict

from tests.clients.test_cli import finish_job, voxprint
from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import watch_events
from voxprint.v1 import voxprint_pb2


@pytest.fixture
def server(server_factory):
    return server_factory(transcriber=ScriptedTranscriber("a cat and a dog"), illustrator=ScriptedIllustrator())


@pytest.fixture
def finished_job(server) -> voxprint_pb2.Job:
    return finish_job(server)


def stored_job(server, job_id: str) -> voxprint_pb2.Job:
    return server.stub.GetJob(voxprint_pb2.GetJobRequest(job_id=job_id))


def printed_json(*args: object) -> object:
    result = voxprint(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_get_prints_the_job_as_grpcurl_would(server, finished_job):
    printed = printed_json("get", finished_job.id, "--server", server.target)
    assert printed == MessageToDict(stored_job(server, finished_job.id))


def test_names_are_lower_camel_case_enums_are_names_and_64_bit_integers_strings(server, finished_job):
    printed = printed_json("get", finished_job.id, "--server", server.target)
    assert printed["state"] == "JOB_STATE_COMPLETED"
    assert printed["audioSizeBytes"] == str(finished_job.audio_size_bytes)
    assert "audio_size_bytes" not in printed


def test_submit_prints_the_finished_job_as_grpcurl_would(server, tmp_path):
    recording = tmp_path / "a.wav"
    recording.write_bytes(wav_bytes())
    printed = printed_json("submit", recording, "--server", server.target)
    assert printed == MessageToDict(stored_job(server, printed["id"]))


def test_watch_prints_each_event_as_grpcurl_would(server, finished_job):
    result = voxprint("watch", finished_job.id, "--json", "--server", server.target)
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert printed == [MessageToDict(event) for event in watch_events(server.stub, finished_job.id)]


def test_list_prints_the_list_reply_with_its_next_page_token_as_grpcurl_would(server):
    for _ in range(3):
        finish_job(server)
    printed = printed_json("list", "--limit", "2", "--server", server.target)
    reply = server.stub.ListJobs(voxprint_pb2.ListJobsRequest(page_size=2))
    assert printed == MessageToDict(reply)
    assert printed["nextPageToken"]


@pytest.mark.parametrize("format_name", ["png", "raw", "preview"])
def test_fetch_prints_the_reply_without_its_bytes_but_with_their_path_and_size(
    server, finished_job, tmp_path, format_name
):
    output = tmp_path / "result"
    printed = printed_json("fetch", finished_job.id, "--format", format_name, "-o", output, "--server", server.target)
    reply = server.stub.Fetch(voxprint_pb2.FetchRequest(job_id=finished_job.id, format=f"FORMAT_{format_name.upper()}"))
    described = MessageToDict(reply)
    del described["data"]
    assert printed == {"path": str(output), "sizeBytes": str(len(reply.data)), **described}
