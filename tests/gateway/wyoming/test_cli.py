"""voxprint-gateway's Wyoming flags: documented, checked before anything starts (one line naming
the problem), and a gateway started only for Wyoming — by its environment variable, with UDP off —
answers Home Assistant's `describe`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.wyoming import ha_describe


def gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxprint.clients.gateway.main", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_wyoming_flags_and_their_environment_variable() -> None:
    shown = gateway("--help")
    assert shown.returncode == 0
    for flag in ("--wyoming-listen tcp://HOST:PORT", "--printer-map FILE", "--wake-phrase PHRASE[,PHRASE...]"):
        assert flag in shown.stdout
    assert "VOXPRINT_GATEWAY_WYOMING_LISTEN" in shown.stdout and "'off'" in shown.stdout


def test_a_printer_map_without_a_wyoming_listener_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "printers"
    mapping.write_text("default /dev/null\n")
    refused = gateway("--printer-map", str(mapping), "--state-dir", str(tmp_path / "state"))
    assert refused.returncode == 2
    assert "--printer-map and --wake-phrase are for satellites" in refused.stderr.splitlines()[-1]


def test_a_gateway_with_nothing_to_listen_on_is_refused(tmp_path: Path) -> None:
    refused = gateway("--listen", "off", "--state-dir", str(tmp_path / "state"))
    assert refused.returncode == 2 and "nothing to listen on" in refused.stderr.splitlines()[-1]


def test_a_malformed_printer_map_is_refused_naming_its_line(tmp_path: Path) -> None:
    mapping = tmp_path / "printers"
    mapping.write_text("default /dev/null\nassist_satellite.kids_room\n")
    refused = gateway("--wyoming-listen", "tcp://127.0.0.1:0", "--printer-map", str(mapping))
    assert refused.returncode == 2
    assert "line 2: expected a satellite or device id and a destination" in refused.stderr.splitlines()[-1]
    assert "Traceback" not in refused.stderr


def test_a_printer_the_gateway_cannot_print_to_is_refused_naming_its_line(tmp_path: Path) -> None:
    mapping = tmp_path / "printers"
    mapping.write_text("default ftp://printer.lan\n")
    refused = gateway(
        "--listen", "off", "--wyoming-listen", "tcp://127.0.0.1:0", "--printer-map", str(mapping),
        "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    assert refused.returncode == 1
    assert "line 1: unsupported printer address 'ftp://printer.lan'" in refused.stderr.splitlines()[-1]
    assert "Traceback" not in refused.stderr


@pytest.mark.slow
async def test_a_wyoming_only_gateway_started_from_its_environment_answers_describe(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "voxprint.clients.gateway.main", "--listen", "off"]
    command += ["--state-dir", str(tmp_path / "state"), "--deliver", str(tmp_path)]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "VOXPRINT_GATEWAY_WYOMING_LISTEN": "127.0.0.1:0"}
    )
    try:
        assert process.stderr is not None
        log = []
        for line in process.stderr:
            log.append(line)
            if match := re.search(r"wyoming on tcp://([\d.]+):(\d+)", line):
                break
        else:
            pytest.fail("the gateway did not start:\n" + "".join(log))
        info = await ha_describe((match.group(1), int(match.group(2))))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)
    assert info.handle and info.asr
    assert not any("listening on udp" in line for line in log)
