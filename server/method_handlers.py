"""Rebuilding a gRPC method handler around another behaviour, as the server's interceptors do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import grpc

Request = TypeVar("Request")
Response = TypeVar("Response")
# What a server interceptor is handed: the next interceptor, or the servicer's handler lookup.
# (Quoted: grpc's runtime classes are not subscriptable.)
Continuation: TypeAlias = (
    "Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Request, Response] | None]]"
)

# By (request streaming, response streaming).
_MAKERS = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def behaviour_of(handler: grpc.RpcMethodHandler[Any, Any]) -> Callable[..., Any]:
    """The function that serves the method's calls, whichever of the four kinds it is."""
    behaviour = handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    if behaviour is None:
        raise ValueError("the method handler has no behaviour")
    return behaviour


def with_behaviour(
    handler: grpc.RpcMethodHandler[Request, Response], behaviour: Callable[..., Any]
) -> grpc.RpcMethodHandler[Request, Response]:
    """A handler of the same kind and (de)serializers as ``handler`` that serves calls with ``behaviour``."""
    make = _MAKERS[(handler.request_streaming, handler.response_streaming)]
    return make(
        behaviour, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
    )
