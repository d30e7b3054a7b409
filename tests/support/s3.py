"""A real S3-compatible server for the tests: moto's server mode, a subprocess on 127.0.0.1.

boto3 talks to it over HTTP exactly as it talks to AWS S3 or MinIO; nothing in boto3 is replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from tests.support.clients import free_port

REGION = "us-east-1"
STARTUP_SECONDS = 30.0
# AWS variables that would override, add to or switch off the test environment.
COMPETING_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@contextmanager
def running_moto(directory: Path, **environment: str) -> Iterator[str]:
    """A moto S3 server on a free loopback port, with ``environment`` added to its own; yields its URL."""
    port = free_port()
    log = directory / f"moto-{port}.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **environment},
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(endpoint, server, log)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto S3 server running for the whole session."""
    with running_moto(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3_environment(s3_endpoint: str) -> dict[str, str]:
    """The standard AWS variables that point boto3 (in this process or a server subprocess) at the test S3."""
    return {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "voxprint-test",
        # Unique, so a test can tell that no message or log line ever contains it.
        "AWS_SECRET_ACCESS_KEY": f"voxprint-test-secret-{uuid.uuid4().hex}",
        "AWS_DEFAULT_REGION": REGION,
    }


@pytest.fixture(scope="session")
def s3_client(s3_environment: dict[str, str]):
    """A boto3 S3 client for the test server, to set up and inspect buckets behind the code under test."""
    return boto3.session.Session(
        aws_access_key_id=s3_environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=s3_environment["AWS_SECRET_ACCESS_KEY"],
        region_name=s3_environment["AWS_DEFAULT_REGION"],
    ).client("s3", endpoint_url=s3_environment["AWS_ENDPOINT_URL"])


@pytest.fixture
def s3_media_url(s3_environment: dict[str, str], s3_client, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<fresh bucket>/media``, with this process's environment pointing boto3 at the test S3."""
    for name in COMPETING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in s3_environment.items():
        monkeypatch.setenv(name, value)
    bucket = f"voxprint-{uuid.uuid4().hex}"
    s3_client.create_bucket(Bucket=bucket)
    return f"s3://{bucket}/media"


def _wait_until_answering(endpoint: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"moto server exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer, even an error status, means it is serving
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"moto server did not answer within {STARTUP_SECONDS} s:\n{log.read_text(errors='replace')}")
