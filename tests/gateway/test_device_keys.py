"""The --device-keys file: hex device ids and secrets, comments allowed, mistakes named by line
without ever showing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxprint.clients.gateway.device_keys import DeviceKeysError, load_device_keys

SECRET = "8d1f0c6a2b9e4f7780aa5c31d2e9b046"


def keys_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "device-keys"
    path.write_text(text)
    return path


def test_devices_and_secrets_are_read_with_comments_and_blank_lines(tmp_path: Path) -> None:
    path = keys_file(tmp_path, f"# device  secret\n\n0123456789abcdef {SECRET}  # kitchen\nA\t{SECRET * 2}\n")
    assert load_device_keys(path) == {0x0123456789ABCDEF: bytes.fromhex(SECRET), 0xA: bytes.fromhex(SECRET * 2)}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (f"0123456789abcdef {SECRET[:30]}", "at least 16 bytes"),
        (f"kitchen {SECRET}", "must be hex"),
        (f"10123456789abcdef {SECRET}", "at most 16 hex digits"),
        ("0123456789abcdef", "a device id and a secret"),
    ],
)
def test_a_bad_line_is_named_without_its_secret(tmp_path: Path, line: str, problem: str) -> None:
    with pytest.raises(DeviceKeysError, match=problem) as refused:
        load_device_keys(keys_file(tmp_path, f"# keys\n{line}\n"))
    assert "line 2" in str(refused.value) and SECRET[:30] not in str(refused.value)


def test_a_device_listed_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeviceKeysError, match="listed twice"):
        load_device_keys(keys_file(tmp_path, f"a {SECRET}\n0a {SECRET}\n"))


def test_a_file_listing_no_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeviceKeysError, match="no device"):
        load_device_keys(keys_file(tmp_path, "# nobody yet\n"))
