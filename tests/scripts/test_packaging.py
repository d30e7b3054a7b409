"""The wheel as a user gets it: built from this checkout, installed into a fresh venv without extras.

One wheel and one venv serve the whole module (built once per session, in about a minute with
pip's cache). Every command runs from that venv, outside the checkout, with no voxprint variables
and no API keys, so nothing of the editable install or the developer's environment leaks in.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support import REPOSITORY
from voxprint.server.service import SERVICE_NAME

# Building the wheel and installing its dependencies is part of the first test's time.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

BUILD_SECONDS = 600
COMMAND_SECONDS = 120
# What a checkout holds besides its sources: environments, caches and earlier build products.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.so", "*.c"
)


@dataclass(frozen=True)
class InstalledWheel:
    wheel: Path
    venv: Path
    workdir: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def environment(self) -> dict[str, str]:
        """This environment without the test venv, voxprint's variables, API keys or Python overrides."""
        dropped = ("VOXPRINT_", "PYTHON", "ASSEMBLYAI_", "GOOGLE_", "GEMINI_")
        environment = {
            key: value
            for key, value in os.environ.items()
            if key != "VIRTUAL_ENV" and not key.startswith(dropped) and not key.startswith("AWS_")
        }
        environment["PATH"] = f"{self.bin}{os.pathsep}{environment.get('PATH', '')}"
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        return environment

    def run(self, *command: str | Path, timeout: float = COMMAND_SECONDS) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(part) for part in command],
            cwd=self.workdir,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(self, code: str) -> str:
        """What ``code`` prints when run by the venv's own python."""
        done = self.run(self.bin / "python", "-c", code)
        assert done.returncode == 0, done.stderr
        return done.stdout


def _checked(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, f"{done.args} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    root = tmp_path_factory.mktemp("packaging")
    # Built from a copy, so the build leaves nothing in (and meets nothing left in) the checkout.
    source = root / "source"
    shutil.copytree(REPOSITORY, source, symlinks=True, ignore=NOT_SOURCES)
    wheels = root / "wheels"
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    _checked(
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=BUILD_SECONDS,
        )
    )
    (wheel,) = wheels.glob("voxprint-*.whl")
    venv = root / "venv"
    _checked(
        subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], env=environment, capture_output=True, text=True, timeout=120
        )
    )
    workdir = root / "work"
    workdir.mkdir()
    installed = InstalledWheel(wheel, venv, workdir)
    # The dependencies, but no extra: no psycopg, no boto3.
    _checked(installed.run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, timeout=BUILD_SECONDS))
    return installed


def test_the_wheel_installs_one_package_voxprint_and_its_commands(installed: InstalledWheel):
    files = json.loads(
        installed.python(
            "import json, sysconfig; from importlib.metadata import distribution; "
            "files = distribution('voxprint').files; "
            "print(json.dumps({'site': sysconfig.get_path('purelib'), 'files': [str(f) for f in files]}))"
        )
    )
    site = Path(files["site"])
    top_level = {name.split("/")[0] for name in files["files"] if not name.startswith("../")}
    assert top_level == {"voxprint", wheel_dist_info(installed.wheel)}
    outside = {(site / name).resolve() for name in files["files"] if name.startswith("../")}
    assert outside == {installed.bin.resolve() / name for name in ("voxprint", "voxprint-server", "voxprint-gateway")}
    for name in ("server", "clients", "rasterizer"):
        assert not (site / name).exists(), f"site-packages holds a top-level {name}"


def wheel_dist_info(wheel: Path) -> str:
    name, version = wheel.name.split("-")[:2]
    return f"{name}-{version}.dist-info"


def test_the_server_serves_without_any_extra_and_stops_cleanly(installed: InstalledWheel):
    assert installed.python("import importlib.util as u; print(u.find_spec('psycopg'), u.find_spec('boto3'))") == (
        "None None\n"
    )
    server = subprocess.Popen(
        [str(installed.bin / "voxprint-server"), "--listen", "127.0.0.1:0", "--data-dir", str(installed.workdir / "d")],
        cwd=installed.workdir,
        env=installed.environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stderr or ()], daemon=True)
    reader.start()
    log: list[str] = []
    try:
        target = _listening_address(lines, log, deadline=time.monotonic() + COMMAND_SECONDS)
        with grpc.insecure_channel(target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            reply = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    reader.join(10)  # until the server's last words are read
    while not lines.empty():
        log.append(lines.get())
    assert "voxprint stopped" in "".join(log)


def _listening_address(lines: queue.Queue[str], log: list[str], deadline: float) -> str:
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        log.append(line)
        if match := re.search(r"listening on (127\.0\.0\.1:\d+)", line):
            return match.group(1)
    pytest.fail("the installed server never said it was listening:\n" + "".join(log))


def test_a_postgresql_database_without_the_extra_fails_in_one_line_that_says_what_to_install(
    installed: InstalledWheel,
):
    done = installed.run(
        installed.bin / "voxprint-server",
        "--database",
        "postgresql://x@127.0.0.1:1/x",
        "--data-dir",
        installed.workdir / "postgres",
    )
    said = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in said and "ModuleNotFoundError" not in said
    naming = [line for line in said.splitlines() if "voxprint[postgres]" in line]
    assert naming == [said.strip().splitlines()[-1]]
    assert "pip install 'voxprint[postgres]'" in naming[0]


def test_the_wheel_carries_the_compiled_rasterizer(installed: InstalledWheel):
    with zipfile.ZipFile(installed.wheel) as wheel:
        assert any(re.fullmatch(r"voxprint/rasterizer/_kernels\..*\.so", name) for name in wheel.namelist())
    implementation, location = json.loads(
        installed.python(
            "import json, voxprint, voxprint.rasterizer as r; print(json.dumps([r.implementation, voxprint.__file__]))"
        )
    )
    assert implementation == "cython"
    assert Path(location).is_relative_to(installed.venv)
