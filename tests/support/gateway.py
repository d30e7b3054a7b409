"""Shared pieces for gateway tests: a gateway on loopback (in this process, or as a subprocess
read from outside as an operator would), datagrams of a recognisable recording, a /metrics
parser, a second spoken recording, a device played by hand, and a raw socket that forges source
addresses (tests/support/raw_udp.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.audio import tone
from tests.support.raw_udp import Address, ForgedUdp, UdpListener, forged_udp_or_skip
from tests.support.speech import speak
from voxprint.clients import AsyncVoxprintClient
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import Limits
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.main import Gateway, GatewayConfig, RetryPolicy
from voxprint.clients.gateway.protocol import Audio, AudioFlag, JobNotice, Query, RasterChunk, SampleFormat, Signing
from voxprint.clients.gateway.replay import SendCounter

SECOND_PHRASE = "a banana and an apple"
# Set for gateway subprocesses, so the environment variable is what turns /metrics on.
METRICS_ENV = "VOXPRINT_GATEWAY_METRICS_LISTEN"
FRAMES = 8  # per datagram of part()

# Loopback-sized: short timeouts and fast retries keep the tests quick; the behaviour is the same.
TEST_CONFIG = GatewayConfig(
    listen=("127.0.0.1", 0),
    limits=Limits(silence_timeout=0.5, reorder_grace=0.1, max_seconds=15.0),
    retry=RetryPolicy(first_delay=0.1, max_delay=0.5, give_up_after=60.0),
    chunk_interval=0.0005,
    counters_interval=3600.0,
    job_timeout=120.0,
)


@asynccontextmanager
async def running_gateway(server_target: str, **overrides: Any) -> AsyncIterator[Gateway]:
    """A started gateway on 127.0.0.1 (random port) in front of `server_target`."""
    async with AsyncVoxprintClient(server_target) as client:
        gateway = Gateway(replace(TEST_CONFIG, **overrides), client)
        await gateway.start()
        try:
            yield gateway
        finally:
            await gateway.close()


Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse_metrics(text: str) -> Metrics:
    """Every sample of a /metrics page, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class GatewayProcess:
    """`python -m voxprint.clients.gateway.main` on 127.0.0.1 (random ports) with /metrics on, in front of
    `server_target`; `extra` are more command-line flags. Stop it with `stop()`."""

    START_TIMEOUT = 30.0
    _LISTENING = re.compile(r"listening on udp ([\d.]+):(\d+)")
    _METRICS = re.compile(r"metrics on (http://[\d.]+:\d+/metrics)")

    def __init__(self, server_target: str, state_dir: Path, *extra: str) -> None:
        command = [sys.executable, "-m", "voxprint.clients.gateway.main", "--listen", "127.0.0.1:0"]
        command += ["--server", server_target, "--state-dir", str(state_dir), "--counters-interval", "3600", *extra]
        self.log: list[str] = []
        self._started = threading.Event()
        self.process = subprocess.Popen(
            command, stderr=subprocess.PIPE, text=True, env={**os.environ, METRICS_ENV: "127.0.0.1:0"}
        )
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._started.wait(self.START_TIMEOUT):
            self.stop()
            raise RuntimeError("the gateway did not start:\n" + "\n".join(self.log))
        listening = self._first(self._LISTENING)
        self.address = (listening.group(1), int(listening.group(2)))
        self.metrics_url = self._first(self._METRICS).group(1)

    def _read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line.rstrip())
            if self._LISTENING.search(line):
                self._started.set()
        self._started.set()  # exited before listening: stop waiting

    def _first(self, pattern: re.Pattern[str]) -> re.Match[str]:
        return next(match for line in self.log if (match := pattern.search(line)))

    def scrape(self) -> Metrics:
        with urllib.request.urlopen(self.metrics_url, timeout=10) as page:
            return parse_metrics(page.read().decode())

    def status_kib(self, field: str) -> int:
        """A memory figure of the process from /proc/<pid>/status, e.g. VmRSS or VmHWM (peak)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise KeyError(field)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)
        self._reader.join(5)


@pytest.fixture(scope="session")
def second_speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Someone saying SECOND_PHRASE: a recording that must never mix with the penguins."""
    return speak(SECOND_PHRASE, tmp_path_factory.mktemp("speech") / "fruit.wav")


@pytest.fixture
def counters() -> Counters:
    return Counters()


def part(
    sequence: int,
    device: int = 1,
    session: int = 1,
    *,
    last: int | None = None,
    fmt: SampleFormat = SampleFormat.S16LE,
    rate: int = 16_000,
    frames: int = FRAMES,
) -> Audio:
    """Datagram `sequence` of a recording whose samples all equal sequence + 1 (never silence)."""
    flags = AudioFlag.NONE
    if sequence == 0:
        flags |= AudioFlag.START
    if sequence == last:
        flags |= AudioFlag.END
    sample = ((sequence + 1) % 256).to_bytes(fmt.width, "little")
    return Audio(device, session, sequence, rate, 1, fmt, sample * frames, flags)


@pytest.fixture
def forged_udp() -> Iterator[ForgedUdp]:
    """A raw socket for datagrams with forged loopback source addresses (tests/support/raw_udp.py):
    fails the test as root when it cannot be opened, skips it for an unprivileged developer."""
    forged = forged_udp_or_skip()
    yield forged
    forged.close()


class HandDevice:
    """A device played step by step from a plain UDP socket on `host`: a test sends exactly the
    datagrams it means to and reads every reply, where SimulatedDevice would answer by itself.
    With `key`, it tags what it sends (with a fresh counter each), as --device-keys requires."""

    DATAGRAM_BYTES = 1024

    def __init__(
        self,
        gateway: Address,
        *,
        device_id: int = 0xD1CE,
        session_id: int = 1,
        key: bytes | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.gateway = gateway
        self.device_id, self.session_id, self.key = device_id, session_id, key
        self._counter = SendCounter()
        self.listener = UdpListener(host)
        self.address = self.listener.address

    def encode(self, message: protocol.Message) -> bytes:
        return protocol.encode(message, Signing(self.key, self._counter.next()) if self.key is not None else None)

    def transmit(self, *datagrams: bytes) -> None:
        for datagram in datagrams:
            self.listener.socket.sendto(datagram, self.gateway)

    def send(self, message: protocol.Message) -> bytes:
        """Sends `message`; returns the datagram, for a test to replay."""
        datagram = self.encode(message)
        self.transmit(datagram)
        return datagram

    def recording(self, seconds: float = 0.5) -> list[bytes]:
        """The datagrams of a tone of `seconds`, the last one flagged END."""
        pcm = (tone(seconds) * 32767).astype("<i2").tobytes()
        payloads = [pcm[i : i + self.DATAGRAM_BYTES] for i in range(0, len(pcm), self.DATAGRAM_BYTES)]
        return [
            self.encode(
                Audio(
                    self.device_id,
                    self.session_id,
                    sequence,
                    16_000,
                    1,
                    SampleFormat.S16LE,
                    payload,
                    AudioFlag.END if sequence == len(payloads) - 1 else AudioFlag.NONE,
                )
            )
            for sequence, payload in enumerate(payloads)
        ]

    def record(self, seconds: float = 0.5) -> list[bytes]:
        """Sends a recording (`recording()`); returns its datagrams."""
        datagrams = self.recording(seconds)
        self.transmit(*datagrams)
        return datagrams

    def replies(self) -> list[protocol.Message]:
        keys = {self.device_id: self.key} if self.key is not None else None
        return [protocol.decode(datagram, keys) for datagram in self.listener.datagrams]

    @property
    def cookie(self) -> bytes:
        """The cookie of the latest notice: what proves this device's address in its requests."""
        return [reply for reply in self.replies() if isinstance(reply, JobNotice)][-1].cookie

    def prove(self, timeout: float = 5.0) -> None:
        """Wait for the first notice and echo its cookie, as firmware does: the gateway then sends
        this device's address everything, not just as many bytes as it sent."""
        self.listener.collect_until(lambda _: any(isinstance(reply, JobNotice) for reply in self.replies()), timeout)
        self.send(Query(self.device_id, self.session_id, self.cookie))

    def await_raster(self, timeout: float = 60.0) -> None:
        """Collect replies until every chunk of the raster has come."""

        def whole(datagrams: list[bytes]) -> bool:
            chunks = [reply for reply in self.replies() if isinstance(reply, RasterChunk)]
            return bool(chunks) and len({chunk.chunk_index for chunk in chunks}) == chunks[0].chunk_count

        self.listener.collect_until(whole, timeout)

    def close(self) -> None:
        self.listener.close()
