"""Request ids: one per recording, the same after a restart, and not computable without the
gateway's secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from voxprint.clients.gateway.assembler import SessionKey
from voxprint.clients.gateway.request_ids import SECRET_FILE, RequestIds, SecretFileError, persistent_secret

KEY = SessionKey.framed(0x0123456789ABCDEF, 0xCAFE0001)


def test_a_recording_always_gets_the_same_id_under_one_secret() -> None:
    assert RequestIds(b"s" * 32).for_session(KEY) == RequestIds(b"s" * 32).for_session(KEY)


def test_recordings_get_different_ids() -> None:
    ids = RequestIds(b"s" * 32)
    assert ids.for_session(SessionKey.framed(1, 2)) != ids.for_session(SessionKey.framed(2, 1))


def test_the_id_depends_on_the_secret_and_names_no_device() -> None:
    first, second = RequestIds(b"a" * 32).for_session(KEY), RequestIds(b"b" * 32).for_session(KEY)
    assert first != second
    assert "0123456789abcdef" not in first and "cafe0001" not in first


def test_the_id_is_what_the_server_accepts_as_a_request_id() -> None:
    request_id = RequestIds(b"s" * 32).for_session(KEY)
    assert len(request_id) <= 128 and request_id.isascii() and request_id.isprintable()


def test_the_secret_is_created_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    state = tmp_path / "state"
    secret = persistent_secret(state)
    assert persistent_secret(state) == secret and len(secret) == 32
    assert stat.S_IMODE((state / SECRET_FILE).stat().st_mode) == 0o600
    assert [path.name for path in state.iterdir()] == [SECRET_FILE]


def test_a_state_dir_holding_something_else_is_refused(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("not a secret")
    with pytest.raises(SecretFileError, match=SECRET_FILE):
        persistent_secret(tmp_path)
