"""Server reflection answers under v1 (asked first by newer grpcurl, Postman, Evans) and v1alpha."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber


@pytest.fixture
def server(server_factory):
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


def ask(server, package: str, request: reflection_pb2.ServerReflectionRequest):
    call = server.channel.stream_stream(
        f"/{package}.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    [answer] = list(call(iter([request]), timeout=10))
    return answer


@pytest.mark.parametrize("package", ["grpc.reflection.v1", "grpc.reflection.v1alpha"])
def test_both_reflection_versions_list_the_services(server, package):
    answer = ask(server, package, reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {service.name for service in answer.list_services_response.service}
    assert {"voxprint.v1.Voxprint", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} <= names


@pytest.mark.parametrize("symbol", ["voxprint.v1.Voxprint", "grpc.reflection.v1.ServerReflection"])
def test_v1_reflection_describes_voxprint_and_itself(server, symbol):
    answer = ask(server, "grpc.reflection.v1", reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in answer.file_descriptor_response.file_descriptor_proto
    ]
    assert any(service.name == symbol.rsplit(".", 1)[1] for file in files for service in file.service)
