"""Specification of the optional bearer token and TLS on the server side."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.clients import self_signed_certificate
from tests.support.servers import submit_requests
from voxprint.v1 import voxprint_pb2 as pb
from voxprint.v1 import voxprint_pb2_grpc

TOKEN = "s3cret-token-0123456789"


@pytest.fixture
def guarded(server_factory, monkeypatch):
    monkeypatch.setenv("VOXPRINT_AUTH_TOKEN", TOKEN)
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


@pytest.mark.parametrize("token", [None, "wrong"], ids=["no-token", "wrong-token"])
def test_calls_without_the_right_token_are_unauthenticated(guarded, token):
    metadata = bearer(token) if token else None
    calls = [
        lambda: guarded.stub.ListJobs(pb.ListJobsRequest(), metadata=metadata),
        lambda: guarded.stub.Submit(submit_requests(wav_bytes()), metadata=metadata),
        lambda: list(guarded.stub.Watch(pb.WatchRequest(job_id="x"), metadata=metadata)),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert TOKEN not in caught.value.details()


def test_calls_with_the_token_are_served(guarded):
    job = guarded.stub.Submit(submit_requests(wav_bytes()), metadata=bearer(TOKEN))
    assert guarded.stub.GetJob(pb.GetJobRequest(job_id=job.id), metadata=bearer(TOKEN)).id == job.id


def test_health_checks_need_no_token(guarded):
    reply = health_pb2_grpc.HealthStub(guarded.channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def certificate(tmp_path):
    return self_signed_certificate(tmp_path)


def test_server_with_a_certificate_speaks_tls(server_factory, certificate):
    cert, key = certificate
    server = server_factory(
        tls_cert=cert, tls_key=key, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator()
    )
    credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
    with grpc.secure_channel(server.target, credentials) as channel:
        stub = voxprint_pb2_grpc.VoxprintStub(channel)
        assert stub.ListJobs(pb.ListJobsRequest(), timeout=10).jobs == []


def test_certificate_without_its_key_is_refused_before_serving(tmp_path, certificate):
    from tests.support.servers import offline_settings
    from voxprint.server.app import VoxprintServer

    cert, _ = certificate
    with pytest.raises(ValueError, match="both a certificate"):
        VoxprintServer(
            offline_settings(tmp_path, tls_cert=cert),
            transcriber=ScriptedTranscriber(),
            illustrator=ScriptedIllustrator(),
        )
