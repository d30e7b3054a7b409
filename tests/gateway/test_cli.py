"""voxprint-gateway's command line: its flags are documented plainly, its UDP port hears only this
machine unless told otherwise, and a bad --device-keys file or replay counters file stops it with
one line naming the problem (never a secret, never a traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SECRET = "8d1f0c6a2b9e4f7780aa5c31d2e9b0"  # 15 bytes: one short


def gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxprint.clients.gateway.main", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_admission_authentication_and_metrics_flags_without_python_internals() -> None:
    shown = gateway("--help")
    assert shown.returncode == 0
    for flag in ("--max-sessions-per-source", "--max-sessions-per-address", "--rate-limit", "--rate-burst"):
        assert flag in shown.stdout
    for flag in ("--device-keys FILE", "--state-dir DIRECTORY", "--metrics-listen HOST:PORT"):
        assert flag in shown.stdout
    assert "<LAMBDA>" not in shown.stdout and "<function" not in shown.stdout


def test_by_default_the_udp_port_listens_on_loopback_only() -> None:
    shown = " ".join(gateway("--help").stdout.split())
    assert "[default: 127.0.0.1:6384]" in shown


def test_a_damaged_replay_counters_file_is_refused_in_one_line(tmp_path: Path) -> None:
    keys, state = tmp_path / "device-keys", tmp_path / "state"
    keys.write_text(f"0123456789abcdef {SECRET}00\n")
    state.mkdir()
    (state / "replay-counters").write_text("garbage\n")
    refused = gateway("--device-keys", str(keys), "--state-dir", str(state))
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1].endswith("replay-counters line 1: not 'DEVICE_ID COUNTER'")
    assert "Traceback" not in refused.stderr


def test_a_bad_device_keys_file_is_refused_in_one_line_without_the_secret(tmp_path: Path) -> None:
    keys = tmp_path / "device-keys"
    keys.write_text(f"0123456789abcdef {SECRET}\n")
    refused = gateway("--device-keys", str(keys), "--state-dir", str(tmp_path / "state"))
    assert refused.returncode == 2
    assert "line 1: the secret must be at least 16 bytes" in refused.stderr.splitlines()[-1]
    assert SECRET not in refused.stderr and "Traceback" not in refused.stderr
