"""Media that wait out an outage (``PatientMedia``), and the S3 errors that count as one: a refused or
broken connection is ``MediaUnavailable``, which is tried again with growing waits and told to
health each time; anything else (a missing key, a full bucket) fails at once, as before."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.outages import TcpProxy
from voxprint.common.backoff import Backoff
from voxprint.server.media import Media, MediaError, MediaFull, MediaMissing, MediaUnavailable, PatientMedia, open_media

KEY = "image/0d5c8a6e-1f0b-4c43-9d2a-5e8f3b7c2a11-1.png"
DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
QUICK = Backoff(attempts=None, initial_delay=0.01, max_delay=0.08, jitter=0.0, give_up_after=5.0)


class Flaky:
    """Media whose next ``outage`` calls fail with ``error``; counts every call."""

    url = "memory://flaky"

    def __init__(self, outage: int, error: MediaError | None = None) -> None:
        self.outage = outage
        self.error = error or MediaUnavailable("cannot reach S3 for bucket 'b' (EndpointConnectionError)")
        self.calls = 0
        self.stored: dict[str, bytes] = {}

    def _call(self) -> None:
        self.calls += 1
        if self.calls <= self.outage:
            raise self.error

    def put(self, key: str, data: bytes) -> None:
        self._call()
        self.stored[key] = data

    def get(self, key: str) -> bytes:
        self._call()
        return self.stored[key]

    def delete(self, key: str) -> None:
        self._call()
        self.stored.pop(key, None)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        self._call()
        yield Path("/copy") / key


class Health:
    def __init__(self) -> None:
        self.told = 0

    def write_failed(self) -> None:
        self.told += 1


@pytest.fixture
def health() -> Health:
    return Health()


def patient(inner: Media, health: Health, backoff: Backoff = QUICK) -> PatientMedia:
    return PatientMedia(inner, on_unavailable=health.write_failed, backoff=backoff)


def test_a_write_that_meets_an_outage_is_stored_once_the_storage_answers(health):
    inner = Flaky(outage=3)

    patient(inner, health).put(KEY, DATA)

    assert inner.stored == {KEY: DATA} and inner.calls == 4


def copied(media: Media) -> Path:
    with media.local_copy(KEY) as copy:
        return copy


@pytest.mark.parametrize(
    "call", [lambda media: media.get(KEY), lambda media: media.delete(KEY), copied], ids=["get", "delete", "local_copy"]
)
def test_reads_deletes_and_local_copies_wait_out_an_outage_too(call, health):
    inner = Flaky(outage=2)
    inner.stored[KEY] = DATA

    call(patient(inner, health))

    assert inner.calls == 3


def test_every_failed_try_is_told_to_health(health):
    patient(Flaky(outage=3), health).put(KEY, DATA)

    assert health.told == 3


def test_each_wait_is_logged_and_longer_than_the_one_before(health, caplog):
    caplog.set_level(logging.INFO, logger="voxprint.server.media.patient")

    patient(Flaky(outage=3), health).put(KEY, DATA)

    waits = [float(w) for w in re.findall(r"retry \d in ([\d.]+) s", caplog.text)]
    assert f"storing media {KEY} failed (MediaUnavailable), retry 1 in" in caplog.text
    assert len(waits) == 3 and waits == sorted(waits) and waits[-1] > waits[0]


@pytest.mark.parametrize(
    "error", [MediaMissing("media is missing"), MediaFull("no space left"), MediaError("S3 refused access")]
)
def test_errors_that_are_not_an_outage_fail_at_once(error, health):
    inner = Flaky(outage=1, error=error)

    with pytest.raises(type(error)):
        patient(inner, health).put(KEY, DATA)

    assert inner.calls == 1 and health.told == 0


def test_an_outage_longer_than_the_patience_fails_with_the_storages_own_error(health):
    brief = Backoff(attempts=None, initial_delay=0.01, max_delay=0.02, jitter=0.0, give_up_after=0.2)

    with pytest.raises(MediaUnavailable, match="cannot reach S3"):
        patient(Flaky(outage=10**6), health, brief).put(KEY, DATA)


def test_an_error_inside_a_local_copy_is_the_callers_and_is_not_tried_again(health):
    inner = Flaky(outage=0)

    with pytest.raises(MediaUnavailable), patient(inner, health).local_copy(KEY):
        raise MediaUnavailable("the caller's own")

    assert inner.calls == 1 and health.told == 0


# -- S3 behind a connection that can be cut ----------------------------------------------------


@pytest.fixture
def s3_behind_a_proxy(
    s3_media_url: str, s3_endpoint: str, tmp_path: Path, monkeypatch
) -> Iterator[tuple[Media, TcpProxy]]:
    """S3 media reaching the suite's S3 server through a proxy the test can cut; boto3 tries once."""
    proxy = TcpProxy(s3_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    yield open_media(s3_media_url, default_dir=tmp_path), proxy
    proxy.cut()


def test_s3_that_cannot_be_reached_is_unavailable_naming_the_bucket(s3_behind_a_proxy):
    media, proxy = s3_behind_a_proxy
    proxy.cut()

    with pytest.raises(MediaUnavailable, match=r"cannot reach S3 for bucket 'voxprint-\w+'"):
        media.put(KEY, DATA)


def test_a_missing_object_is_still_missing_not_unavailable(s3_behind_a_proxy):
    media, _ = s3_behind_a_proxy

    with pytest.raises(MediaMissing):
        media.get(KEY)


def test_a_picture_stored_while_s3_is_cut_off_is_there_once_it_returns(s3_behind_a_proxy, health):
    media, proxy = s3_behind_a_proxy
    proxy.cut()
    threading.Timer(1.0, proxy.restore).start()

    patient(media, health).put(KEY, DATA)

    assert media.get(KEY) == DATA and health.told >= 1
