"""Fixtures that run voxprint replicas as real processes (``tests.support.replica_process``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from tests.support import REPOSITORY
from tests.support.servers import CHANNEL_OPTIONS
from voxprint.v1 import voxprint_pb2_grpc


class ReplicaProcess:
    def __init__(self, data_dir: Path, stage_log: Path, environment: dict[str, str], options: dict[str, str]) -> None:
        command = [sys.executable, "-m", "tests.support.replica_process", "--data-dir", str(data_dir)]
        command += ["--stage-log", str(stage_log)]
        for name, value in options.items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            command, cwd=REPOSITORY, stdout=subprocess.PIPE, text=True, env={**os.environ, **environment}
        )

    def wait_until_serving(self) -> ReplicaProcess:
        port = self.process.stdout.readline().strip()
        assert port, f"the replica on {self.data_dir.name} did not start"
        self.target = f"127.0.0.1:{port}"
        self.channel = grpc.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        self.stub = voxprint_pb2_grpc.VoxprintStub(self.channel)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, claims stay in the database."""
        if hasattr(self, "channel"):
            self.channel.close()
        self.process.kill()
        self.process.wait(10)


class Replicas:
    """Starts replicas that share one stage log; ``stages()`` counts what ran, per stage and job."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stage_log = root / "stages.log"
        self.stage_log.touch()
        self.environment: dict[str, str] = {}
        # Options every replica of this test starts with (a fixture may preset them).
        self.defaults: dict[str, str] = {}
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

    def stop_all(self) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.kill()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Replicas]:
    group = Replicas(tmp_path)
    yield group
    group.stop_all()


ReplicaFactory = Callable[..., ReplicaProcess]
