"""Fixtures that run voxprint replicas as real ``voxprint-server`` processes.

Each replica is the installed console script with its own data dir, configured the way an operator
configures it: some options as flags, the others as their ``VOXPRINT_*`` variables (see ``FLAGS``),
so the tests exercise both ways ``voxprint-server`` reads them. Its stages are the test-only
backends of ``tests.support.stage_backends`` (offered to the real command by
``tests/support/startup/sitecustomize.py``), which log every stage to one file the replicas of a
test share. Each replica's own log (stderr) is kept beside the stage log as ``NAME.log``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.support import REPOSITORY
from tests.support.servers import CHANNEL_OPTIONS
from voxprint.v1 import voxprint_pb2_grpc

# The console script pip installed beside this Python (the venv's), else the one on PATH.
SERVER = Path(sys.executable).with_name("voxprint-server")
if not SERVER.exists():
    SERVER = Path(shutil.which("voxprint-server") or SERVER)
STARTUP = Path(__file__).with_name("startup")
# Options given as flags; every other option goes in as its VOXPRINT_* variable.
FLAGS = {"database", "lease_seconds", "transcriber", "illustrator", "hang_in", "listen", "workers"}
# ``backends=`` picks a pair of the test-only backends: instant stand-ins, or the offline ones, logged.
BACKENDS = {"stand-in": ("stand-in", "stand-in"), "offline": ("logged-whisper", "logged-pictogram")}
# Environment a developer's shell may carry that would change what a replica does.
INHERITED_SECRETS = ("ASSEMBLYAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY")
# Loading the speech model on two busy cores can take a while.
START_SECONDS = 120


def command_line(data_dir: Path, options: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The ``voxprint-server`` command and the VOXPRINT_* variables that start a replica with ``options``."""
    options = dict(options)
    options.setdefault("listen", "127.0.0.1:0")
    if "backends" in options:
        options["transcriber"], options["illustrator"] = BACKENDS[options.pop("backends")]
    command, variables = [str(SERVER), "--data-dir", str(data_dir)], {}
    for name, value in options.items():
        if name in FLAGS:
            command += [f"--{name.replace('_', '-')}", str(value)]
        else:
            variables[f"VOXPRINT_{name.upper()}"] = str(value)
    return command, variables


def replica_environment(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without API keys or voxprint settings, plus ``extra`` and the
    PYTHONPATH that registers the test-only backends."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("VOXPRINT_") and name not in INHERITED_SECRETS
    }
    inherited = [environment["PYTHONPATH"]] if environment.get("PYTHONPATH") else []
    environment["PYTHONPATH"] = os.pathsep.join([str(STARTUP), str(REPOSITORY), *inherited])
    return {**environment, **extra}


class ReplicaProcess:
    def __init__(self, data_dir: Path, stage_log: Path, environment: dict[str, str], options: dict[str, str]) -> None:
        command, variables = command_line(data_dir, {"stage_log": str(stage_log), **options})
        self.data_dir = data_dir
        # Beside the stage log, not in the data dir: that may be on a disk a test fills up.
        self.log_path = stage_log.with_name(f"{data_dir.name}.log")
        with self.log_path.open("ab") as log:
            # A replica started again on the same data dir appends to the same log: this run's part
            # starts here.
            self._log_start = log.tell()
            self.process = subprocess.Popen(
                command,
                cwd=REPOSITORY,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=replica_environment({**environment, **variables}),
            )

    def log(self) -> str:
        """What this run of the replica has logged so far."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_start)
            return log.read().decode(errors="replace")

    def wait_until_serving(self) -> ReplicaProcess:
        deadline = time.monotonic() + START_SECONDS
        while not (match := re.search(r"voxprint listening on 127\.0\.0\.1:(\d+)", self.log())):
            exited = self.process.poll() is not None
            if exited or time.monotonic() > deadline:
                pytest.fail(f"the replica on {self.data_dir.name} did not start:\n{self.log()}")
            time.sleep(0.05)
        self.target = f"127.0.0.1:{match.group(1)}"
        self.channel = grpc.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        self.stub = voxprint_pb2_grpc.VoxprintStub(self.channel)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, claims stay in the database."""
        self._close_channel()
        self.process.kill()
        self.process.wait(10)

    def _close_channel(self) -> None:
        if hasattr(self, "channel"):
            self.channel.close()

    @property
    def replica_id(self) -> str:
        """The id the replica keeps in its data dir, which labels its database connections."""
        return (self.data_dir / "replica-id").read_text().strip()


class Replicas:
    """Starts replicas that share one stage log; ``stages()`` counts what ran, per stage and job."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stage_log = root / "stages.log"
        self.stage_log.touch()
        self.environment: dict[str, str] = {}
        # Options every replica of this test starts with (a fixture may preset them).
        self.defaults: dict[str, str] = {"backends": "stand-in"}
        self.started: list[ReplicaProcess] = []

    def launch(self, name: str = "a", **options: str) -> ReplicaProcess:
        """Start a replica with its own data dir ``name`` without waiting for it to serve."""
        replica = ReplicaProcess(self.root / name, self.stage_log, self.environment, {**self.defaults, **options})
        self.started.append(replica)
        return replica

    def start(self, name: str = "a", **options: str) -> ReplicaProcess:
        return self.launch(name, **options).wait_until_serving()

    def stages(self) -> Counter[tuple[str, str]]:
        lines = self.stage_log.read_text().splitlines()
        return Counter((stage, job) for stage, job, _pid in (line.split("\t") for line in lines))

    def until_started(self, stage: str, job: str, timeout: float = 60) -> None:
        """Wait until some replica has started ``stage`` of ``job`` (the job's state is committed
        before its stage starts: a replica killed in between has not started the stage yet)."""
        deadline = time.monotonic() + timeout
        while not self.stages()[(stage, job)]:
            if time.monotonic() > deadline:
                pytest.fail(f"no replica started {stage} of job {job}")
            time.sleep(0.05)

    def stop_all(self) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.kill()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Replicas]:
    group = Replicas(tmp_path)
    yield group
    group.stop_all()
