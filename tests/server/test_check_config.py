"""``voxprint-server --check-config``'s checks: each finds what it says, and no secret is shown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.support.clients import self_signed_certificate
from voxprint.server.check_config import check_config
from voxprint.server.config import Settings


@pytest.fixture
def offline(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", transcriber="whisper", illustrator="pictogram")


def results(settings: Settings) -> dict[str, tuple[bool, str]]:
    return {result.name: (result.ok, result.detail) for result in check_config(settings)}


def test_the_offline_defaults_pass_every_check(offline):
    assert all(ok for ok, _ in results(offline).values()), results(offline)


def test_a_cloud_backend_without_its_key_fails_naming_the_variable(offline, monkeypatch):
    monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)
    ok, detail = results(replace(offline, transcriber="assemblyai"))["speech-to-text"]
    assert not ok and "ASSEMBLYAI_API_KEY" in detail


def test_a_set_key_is_reported_ready_without_its_value(offline, monkeypatch):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "secret-value-123")
    checked = check_config(replace(offline, transcriber="assemblyai"))
    assert dict((r.name, r.ok) for r in checked)["speech-to-text"]
    assert not any("secret-value-123" in str(result) for result in checked)


def test_an_unreachable_database_fails_in_one_line(offline, postgres_cluster):
    unreachable = postgres_cluster.url("x").replace(str(postgres_cluster.port), "1")
    ok, detail = results(replace(offline, database_url=unreachable))["database"]
    assert not ok and "\n" not in detail


def test_a_reachable_postgres_database_passes_without_showing_a_password(offline, postgres_url):
    with_password = postgres_url.replace("postgres@", "postgres:hunter2@")
    ok, detail = results(replace(offline, database_url=with_password))["database"]
    assert ok and "hunter2" not in detail


def test_unwritable_media_fail(offline, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    ok, _ = results(replace(offline, media_url=blocker.as_uri()))["media"]
    assert not ok


def test_a_certificate_with_another_key_fails_naming_both_files(offline, tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    cert, _ = self_signed_certificate(tmp_path / "one")
    _, other_key = self_signed_certificate(tmp_path / "two")
    ok, detail = results(replace(offline, tls_cert=cert, tls_key=other_key))["tls"]
    assert not ok and str(cert) in detail and str(other_key) in detail


def test_a_matching_certificate_and_key_pass(offline, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    assert results(replace(offline, tls_cert=cert, tls_key=key))["tls"][0]
