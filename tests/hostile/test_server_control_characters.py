"""Client text with control characters: refused as INVALID_ARGUMENT before it reaches a database.

On PostgreSQL a NUL byte in a filename was once kept until the database refused it, and the refusal
was taken for a storage outage: Submit answered UNAVAILABLE (so clients retried) and health went
NOT_SERVING, so any client could take replicas out of a load balancer's rotation.
"""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests
from voxprint.v1 import voxprint_pb2 as pb


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, server_factory):
    database = {"database_url": request.getfixturevalue("postgres_url")} if request.param == "postgresql" else {}
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(), **database)


def health(server) -> int:
    check = health_pb2_grpc.HealthStub(server.channel).Check
    return check(health_pb2.HealthCheckRequest(service="voxprint.v1.Voxprint"), timeout=10).status


@pytest.mark.parametrize("filename", ["kitchen\x00.wav", "kitchen\x1b[2J.wav", "line\nbreak.wav"])
def test_a_filename_with_control_characters_is_invalid_and_the_replica_stays_serving(server, filename):
    with pytest.raises(grpc.RpcError) as refused:
        server.stub.Submit(submit_requests(wav_bytes(), filename=filename), timeout=30)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "control characters" in refused.value.details()
    assert health(server) == health_pb2.HealthCheckResponse.SERVING
    assert server.stub.ListJobs(pb.ListJobsRequest(), timeout=10).jobs == []


def test_a_phrase_with_a_nul_byte_is_invalid_and_the_replica_stays_serving(server):
    with pytest.raises(grpc.RpcError) as refused:
        server.stub.Draw(pb.DrawRequest(phrase="a cat\x00"), timeout=30)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert health(server) == health_pb2.HealthCheckResponse.SERVING
