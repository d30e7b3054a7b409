"""Pytest fixtures around the fakes. Test modules import the ones they use by name (the suite's
only conftest belongs to the whole suite)."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.support.fakes.assemblyai import FakeAssemblyAI
from tests.support.fakes.gemini import FakeGemini
from voxprint.server.retry import Backoff

# Retries as the backends do them, with waits of a few milliseconds.
FAST_RETRIES = Backoff(attempts=3, initial_delay=0.01, max_delay=0.05, jitter=0.01)
# Loggers that would see a key if anything leaked one: the SDKs' HTTP stacks (google-genai uses
# httpx2), the SDKs themselves, and voxprint. The root logger covers everything else.
WATCHED_LOGGERS = ("httpx", "httpcore", "httpx2", "httpcore2", "google_genai", "assemblyai", "voxprint")


def unique_key(vendor: str) -> str:
    """A key no log line or message could contain by coincidence."""
    return f"{vendor}-test-key-{uuid.uuid4().hex}"


@pytest.fixture
def assemblyai_fake() -> Iterator[FakeAssemblyAI]:
    with FakeAssemblyAI(api_key=unique_key("assemblyai")) as fake:
        yield fake


@pytest.fixture
def gemini_fake() -> Iterator[FakeGemini]:
    with FakeGemini(api_key=unique_key("gemini")) as fake:
        yield fake


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens, so connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record from every logger, DEBUG and up."""
    caplog.set_level(logging.DEBUG)
    for name in WATCHED_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def keys_never_logged(all_logs: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """A list for the test to add every key it hands out to; when the test is over, none of them
    may appear in any log record of the test (tracebacks included)."""
    keys: list[str] = []
    yield keys
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    # At teardown caplog.text holds only the teardown's records; the test's are kept by phase.
    records = [record for phase in ("setup", "call") for record in all_logs.get_records(phase)]
    assert records, "the log capture saw nothing, so it proves nothing"
    logged = "\n".join(formatter.format(record) for record in records)
    for key in keys:
        assert key not in logged
