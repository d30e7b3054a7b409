"""Local stand-ins for the cloud services voxprint calls, for tests and offline demos.

Each fake is a small threaded HTTP server on 127.0.0.1 that speaks one vendor's real paths,
headers and JSON shapes closely enough for the vendor's own SDK to talk to it unchanged. It checks
the API key the way the vendor does, records every request (so tests can count retries), and
follows a script: answer the next requests with an error status, answer every request with one,
or vendor-specific behaviour (a transcript that fails, a reply without an image, ...). Named
scenarios bundle scripts for people running a fake by hand (``python -m tests.support.fakes.gemini``).

This module holds what both fakes share: the server, the request log, the error script and the
command line. A vendor module supplies the routes, the key check and its error body.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

Service = TypeVar("Service", bound="FakeService")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    # Seconds to wait before answering (a slow service).
    delay: float = 0.0

    @classmethod
    def json(cls, status: int, payload: Any, *, delay: float = 0.0) -> Reply:
        return cls(status, json.dumps(payload).encode(), delay=delay)


class FakeService(ABC):
    """A vendor's HTTP API on 127.0.0.1. Subclasses implement :meth:`key_problem`,
    :meth:`error_body` and :meth:`route`; use as a context manager or ``start``/``stop``."""

    vendor = "vendor"

    def __init__(self, *, api_key: str, port: int = 0) -> None:
        self.api_key = api_key
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        # (status, path prefix or None) answered to the next matching requests, in order.
        self._scripted_failures: deque[tuple[int, str | None]] = deque()
        self._failing_with: int | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self: Service) -> Service:
        """Serve from a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name=f"fake-{self.vendor}", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve from this thread until :meth:`stop` (or Ctrl-C)."""
        # A short poll interval: stop() waits for the loop to notice, once per test.
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self: Service) -> Service:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- scripting and inspection ----------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, *, path: str | None = None) -> None:
        """Answer the next ``times`` requests (whose path starts with ``path``, if given) with
        ``status`` and the vendor's error body; other requests are served normally."""
        with self._lock:
            self._scripted_failures.extend([(status, path)] * times)

    def fail_always(self, status: int) -> None:
        """Answer every authenticated request with ``status`` (a service that is down)."""
        self._failing_with = status

    def requests(self, method: str | None = None, path: str = "") -> list[Request]:
        """The requests received so far, optionally only one method and path prefix."""
        with self._lock:
            return [r for r in self._requests if (method in (None, r.method)) and r.path.startswith(path)]

    # -- vendor hooks ----------------------------------------------------------------------------

    @abstractmethod
    def key_problem(self, request: Request) -> Reply | None:
        """The vendor's answer to a missing or wrong key, or None when the key is right."""

    @abstractmethod
    def error_body(self, status: int) -> Any:
        """The vendor's JSON error body for ``status``."""

    @abstractmethod
    def route(self, request: Request) -> Reply:
        """Serve an authenticated request that no script intercepted."""

    def error(self, status: int) -> Reply:
        return Reply.json(status, self.error_body(status))

    # -- dispatch --------------------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
        rejected = self.key_problem(request)
        if rejected is not None:
            return rejected
        with self._lock:
            status = self._take_scripted_failure(request.path) or self._failing_with
        return self.error(status) if status else self.route(request)

    def _take_scripted_failure(self, path: str) -> int | None:
        for index, (status, prefix) in enumerate(self._scripted_failures):
            if prefix is None or path.startswith(prefix):
                del self._scripted_failures[index]
                return status
        return None


def _handler_for(service: FakeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' httpx clients expect
        timeout = 10  # an idle kept-alive connection closes after this many seconds
        # Status line, headers and body leave in one write: split small writes meet the
        # client's delayed ACK and cost 40 ms a request.
        wbufsize = 64 * 1024

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=url.path,
                query=url.query,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            reply = service.answer(request)
            if reply.delay:
                threading.Event().wait(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test); nothing to answer

        def log_message(self, format: str, *args: object) -> None:
            # The request line only: method, path, status. Never headers, so never a key.
            log.debug("%s %s: " + format, service.vendor, self.address_string(), *args)

    return Handler


def serve_from_command_line(
    make: Callable[[str, int], Service],
    scenarios: Mapping[str, Callable[[Service], None]],
    *,
    default_key: str,
    base_url_variable: str,
    key_variable: str,
) -> None:
    """``python -m tests.support.fakes.<vendor> [--port N] [--api-key K] [--scenario S]``."""
    parser = argparse.ArgumentParser(description="Serve a fake cloud service for offline demos and tests.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--api-key", default=default_key, help=f"the key to accept (default: {default_key})")
    parser.add_argument("--scenario", choices=sorted(scenarios), default="success", help="how to behave")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(message)s")

    service = make(arguments.api_key, arguments.port)
    scenarios[arguments.scenario](service)
    print(f"{service.vendor} fake on {service.url}, scenario {arguments.scenario!r}. Point voxprint at it:")
    print(f"  export {base_url_variable}={service.url} {key_variable}={arguments.api_key}")
    print("Ctrl-C stops it.", flush=True)
    try:
        service.serve_forever()
    except KeyboardInterrupt:
        pass
