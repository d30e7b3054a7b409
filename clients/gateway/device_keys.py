"""The `--device-keys` file: which devices may talk to the gateway, and the secret each shares.

One device a line, its id and its secret in hex, separated by white space; `#` starts a comment:

    # device id         secret (at least 16 bytes)
    0123456789abcdef    8d1f0c6a2b9e4f7780aa5c31d2e9b046

docs/udp-protocol.md describes how devices tag datagrams with their secret.
"""

from __future__ import annotations

from pathlib import Path

from voxprint.clients.gateway.protocol import DeviceKeys
from voxprint.common.credentials_file import named_secrets

MIN_SECRET_BYTES = 16


class DeviceKeysError(ValueError):
    """The file is not a valid device keys file; the message names the line, never a secret."""


def load_device_keys(path: Path) -> DeviceKeys:
    keys: dict[int, bytes] = {}
    for where, device, secret in named_secrets(path, "a device id and a secret", DeviceKeysError):
        try:
            device_id, key = int(device, 16), bytes.fromhex(secret)
        except ValueError:
            raise DeviceKeysError(f"{where}: the device id and the secret must be hex") from None
        if not 0 <= device_id < 2**64:
            raise DeviceKeysError(f"{where}: a device id has at most 16 hex digits")
        if len(key) < MIN_SECRET_BYTES:
            raise DeviceKeysError(f"{where}: the secret must be at least {MIN_SECRET_BYTES} bytes")
        if device_id in keys:
            raise DeviceKeysError(f"{where}: device {device_id:016x} is listed twice")
        keys[device_id] = key
    if not keys:
        raise DeviceKeysError(f"{path} lists no device")
    return keys
