"""Server reflection: grpcio-reflection's client lists the services of a real server,
resolves their descriptors, and calls CreateSession with a request built from the
reflected descriptors alone; names the server does not know answer NOT_FOUND in the
stream, which goes on; reflection authenticates like every other call."""
import os
import queue

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_reflection.v1alpha.reflection_pb2_grpc import ServerReflectionStub

from conftest import Server, pb, rpc

SERVICES = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "sessionstore.v1.ExecutionManagement",
    "sessionstore.v1.SessionManagement",
]
V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


def exchange(channel, requests, method=None):
    """Sends `requests` on one reflection stream and returns the responses. v1's messages
    have v1alpha's shapes, so v1alpha's classes serve for both versions."""
    if method is None:
        call = ServerReflectionStub(channel).ServerReflectionInfo
    else:
        call = channel.stream_stream(
            method,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
    return list(call(iter(requests), timeout=30))


def file_names(response):
    names = []
    for serialized in response.file_descriptor_response.file_descriptor_proto:
        proto = descriptor_pb2.FileDescriptorProto()
        proto.ParseFromString(serialized)
        names.append(proto.name)
    return names


def test_lists_the_services_in_both_versions(server):
    with server.channel() as channel:
        assert sorted(ProtoReflectionDescriptorDatabase(channel).get_services()) == SERVICES
        (response,) = exchange(channel, [reflection_pb2.ServerReflectionRequest(list_services="")], method=V1)
        assert [service.name for service in response.list_services_response.service] == SERVICES


def test_a_request_built_from_reflected_descriptors_creates_a_session(server):
    with server.channel() as channel:
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        service = pool.FindServiceByName("sessionstore.v1.SessionManagement")
        method = service.methods_by_name["CreateSession"]
        assert method.input_type.full_name == "sessionstore.v1.CreateSessionRequest"
        fields = method.input_type.fields_by_name
        assert {"user_id", "data_source", "timeout", "details", "session_id"} <= set(fields)
        assert fields["timeout"].message_type.full_name == "google.protobuf.Duration"
        assert fields["timeout"].message_type.file.name == "google/protobuf/duration.proto"

        # A dynamic message of the reflected type, sent over a generic call.
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        request = request_class(user_id="ada", data_source="reflected")
        request.timeout.seconds = 600
        request.details["origin"] = "reflection"
        create = channel.unary_unary(
            f"/{service.full_name}/{method.name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        response = create(request, timeout=30)
        assert response.created
        assert response.session.user_id == "ada"

        # The server read every field: the generated stubs see the same session.
        info = rpc.SessionManagementStub(channel).GetSessionInfo(pb.GetSessionInfoRequest(session_key=response.session_key))
        assert info.session.data_source == "reflected"
        assert info.session.timeout.seconds == 600
        assert dict(info.session.details) == {"origin": "reflection"}


def test_symbols_and_files_answer_the_file_with_its_imports(server):
    request = reflection_pb2.ServerReflectionRequest
    with server.channel() as channel:
        responses = exchange(
            channel,
            [
                request(file_containing_symbol="sessionstore.v1.SessionManagement.CreateSession"),
                request(file_containing_symbol="sessionstore.v1.CreateSessionRequest.user_id"),
                request(file_containing_symbol="grpc.health.v1.HealthCheckResponse.ServingStatus"),
                request(file_by_filename="sessionstore/v1/sessionstore.proto"),
                request(file_by_filename="google/protobuf/timestamp.proto"),
            ],
        )
    assert len(responses) == 5
    sessionstore = ["sessionstore/v1/sessionstore.proto", "google/protobuf/duration.proto", "google/protobuf/timestamp.proto"]
    assert file_names(responses[0]) == sessionstore
    assert file_names(responses[1]) == sessionstore
    assert file_names(responses[2]) == ["grpc/health/v1/health.proto"]
    assert file_names(responses[3]) == sessionstore
    assert file_names(responses[4]) == ["google/protobuf/timestamp.proto"]


def test_unknown_names_answer_not_found_and_the_stream_goes_on(server):
    request = reflection_pb2.ServerReflectionRequest
    unknown = [
        request(file_containing_symbol="sessionstore.v1.NoSuchMessage"),
        request(file_containing_symbol="x" * 100_000),
        request(file_by_filename="sessionstore/v1/missing.proto"),
        request(file_containing_extension=reflection_pb2.ExtensionRequest(
            containing_type="sessionstore.v1.CreateSessionRequest", extension_number=100)),
        request(all_extension_numbers_of_type="sessionstore.v1.NoSuchMessage"),
    ]
    with server.channel() as channel:
        responses = exchange(
            channel,
            unknown + [request(), request(host="h", list_services="")],
        )
        for sent, response in zip(unknown, responses):
            assert response.WhichOneof("message_response") == "error_response", response
            assert response.error_response.error_code == NOT_FOUND
            assert response.original_request == sent
        assert len(responses[1].error_response.error_message) < 300
        # A request that asks nothing is answered too; then the stream goes on.
        assert responses[5].error_response.error_code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert responses[6].valid_host == "h"
        assert len(responses[6].list_services_response.service) == len(SERVICES)

        # A known message type has no extensions (none of the files declares one).
        (numbers,) = exchange(channel, [request(all_extension_numbers_of_type="sessionstore.v1.CreateSessionRequest")])
        assert numbers.all_extension_numbers_response.base_type_name == "sessionstore.v1.CreateSessionRequest"
        assert list(numbers.all_extension_numbers_response.extension_number) == []

        # The client's database raises KeyError for NOT_FOUND.
        with pytest.raises(KeyError):
            ProtoReflectionDescriptorDatabase(channel).FindFileContainingSymbol("sessionstore.v1.NoSuchService")


def test_bytes_that_are_not_a_request_fail_the_call_and_the_server_goes_on(server):
    with server.channel() as channel:
        garbage = channel.stream_stream(V1, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as caught:
            list(garbage(iter([b"\xff\xff\xff\xff"]), timeout=30))
        assert caught.value.code() != grpc.StatusCode.OK
        assert ProtoReflectionDescriptorDatabase(channel).get_services()


def test_reflection_needs_credentials_when_the_server_does(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("reflect-token-0123456789 alice\n")
    os.chmod(tokens, 0o600)
    server = Server(tmp_path, args=["--auth", "token", "--token-file", str(tokens)])
    try:
        with server.channel() as channel:
            with pytest.raises(grpc.RpcError) as caught:
                ProtoReflectionDescriptorDatabase(channel).get_services()
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with server.channel(token="reflect-token-0123456789") as channel:
            assert sorted(ProtoReflectionDescriptorDatabase(channel).get_services()) == SERVICES
    finally:
        assert server.stop() == 0, server.log_text()


def test_an_open_reflection_stream_ends_when_the_server_drains(tmp_path):
    server = Server(tmp_path)
    requests = queue.Queue()
    requests.put(reflection_pb2.ServerReflectionRequest(list_services=""))
    channel = server.channel()
    try:
        responses = ServerReflectionStub(channel).ServerReflectionInfo(iter(requests.get, None), timeout=60)
        assert next(responses).list_services_response.service
        assert server.stop() == 0, server.log_text()
        with pytest.raises(grpc.RpcError) as caught:
            next(responses)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        requests.put(None)
        channel.close()
