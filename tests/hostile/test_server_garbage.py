"""Garbage thrown at a real server's gRPC methods as request bytes: whatever arrives, the answer is a
status a client can act on — never UNKNOWN, never a traceback or a server path."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voxprint.server as server_package
from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from voxprint.server.app import MAX_METADATA_BYTES
from voxprint.v1 import voxprint_pb2 as pb

# The checkout (or site-packages): a path under it in an answer would show where the server runs from.
SOURCE_ROOT = Path(server_package.__file__).resolve().parents[1]
UNARY_METHODS = ["GetJob", "Fetch", "ListJobs", "Watch"]
# Field 1 (job_id, a string) holding bytes that are not UTF-8.
JOB_ID_NOT_UTF8 = b"\x0a\x02\xff\xfe"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def server(server_factory):
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


def raw_call(server, method: str, body: bytes) -> grpc.RpcError | None:
    """Sends ``body`` as the request of ``method`` untouched; the error it ends with, if any."""
    path = f"/voxprint.v1.Voxprint/{method}"
    try:
        if method == "Watch":
            list(server.channel.unary_stream(path)(body, timeout=10))
        else:
            server.channel.unary_unary(path)(body, timeout=10)
    except grpc.RpcError as error:
        return error
    return None


def raw_submit(server, messages: list[bytes]) -> grpc.RpcError | None:
    try:
        server.channel.stream_unary("/voxprint.v1.Voxprint/Submit")(iter(messages), timeout=10)
    except grpc.RpcError as error:
        return error
    return None


def assert_actionable(server, error: grpc.RpcError | None) -> None:
    """No status, or one that names a client's mistake without showing the server's insides."""
    if error is None:
        return
    details = error.details()
    assert error.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), details
    assert "Traceback" not in details
    assert str(SOURCE_ROOT) not in details and str(server.settings.data_dir) not in details


@pytest.mark.parametrize("method", UNARY_METHODS)
def test_a_request_that_is_not_protobuf_is_invalid_argument(server, method):
    error = raw_call(server, method, b"\xff\xff\xff\xff")

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid voxprint.v1." in error.details()


@pytest.mark.parametrize("method", ["GetJob", "Fetch", "Watch"])
def test_a_string_field_that_is_not_utf8_is_invalid_argument(server, method):
    assert raw_call(server, method, JOB_ID_NOT_UTF8).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_submit_message_that_is_not_protobuf_is_invalid_argument(server):
    metadata = pb.SubmitRequest(metadata=pb.SubmitMetadata(filename="a.wav")).SerializeToString()

    assert raw_submit(server, [metadata, b"\xff\xff\xff"]).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_filename_that_is_not_utf8_is_invalid_argument(server):
    # SubmitRequest.metadata (field 1) holding SubmitMetadata.filename (field 1) = b"\xff".
    metadata = b"\x0a\x03\x0a\x01\xff"
    chunk = pb.SubmitRequest(audio_chunk=wav_bytes()).SerializeToString()

    assert raw_submit(server, [metadata, chunk]).code() == grpc.StatusCode.INVALID_ARGUMENT


def test_metadata_over_the_limit_is_resource_exhausted(server):
    with pytest.raises(grpc.RpcError) as refused:
        server.stub.ListJobs(pb.ListJobsRequest(), metadata=[("x-padding", "a" * MAX_METADATA_BYTES)], timeout=10)

    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "metadata" in refused.value.details()


def test_metadata_within_the_limit_is_served(server):
    server.stub.ListJobs(pb.ListJobsRequest(), metadata=[("x-padding", "a" * (MAX_METADATA_BYTES // 2))], timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize("method", UNARY_METHODS)
@FUZZ
@given(body=st.binary(max_size=256))
def test_random_bytes_as_a_request_never_answer_unknown(server, method, body):
    assert_actionable(server, raw_call(server, method, body))


@pytest.mark.slow
@FUZZ
@given(messages=st.lists(st.binary(max_size=128), max_size=4))
def test_random_bytes_as_submit_messages_never_answer_unknown(server, messages):
    assert_actionable(server, raw_submit(server, messages))
