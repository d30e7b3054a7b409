"""End to end with the real `wyoming-satellite` (PyPI, 1.0.0): a satellite hears a spoken phrase
and the printer prints exactly the job's raster.

wyoming-satellite 1.0.0 pins an older `wyoming`, so it is installed in a virtual environment of its
own, made by this test run. Its microphone is mic_pacer.py (silence, the phrase in real time once
the wake word has fired, silence) and its wake word detector fake_wake.py (fires once). This test
plays Home Assistant's part toward the satellite — `run-satellite`, then the `run-pipeline` and the
audio it streams after the wake word, an energy threshold to hear the end of the utterance — and
forwards the utterance, chunk by chunk as it arrives, to voxprint's `asr` program the way
homeassistant/components/wyoming/stt.py does (`transcribe`, `audio-start`, `audio-chunk`…,
`audio-stop`); the transcript goes back to the satellite, as Home Assistant sends it.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.pipeline import RunPipeline
from wyoming.satellite import RunSatellite

from tests.support.clients import free_port
from tests.support.wyoming import jobs, raw_raster, read_until, spool, wyoming_address, wyoming_gateway
from voxprint.clients.gateway.assembler import Address
from voxprint.clients.gateway.printer_map import read_printer_map
from voxprint.v1 import voxprint_pb2

SATELLITE = "wyoming-satellite==1.0.0"
HERE = Path(__file__).parent
# Speech in flite's recordings is far above this RMS (of 32768); their silence is 0.
SPEECH_RMS = 300.0
# Silence after speech that ends the utterance (Home Assistant's own VAD waits about as long).
END_SILENCE = 0.7
TIMEOUT = 60.0


@pytest.fixture(scope="session")
def satellite_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtual environment with wyoming-satellite installed from PyPI."""
    venv = tmp_path_factory.mktemp("wyoming-satellite") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", SATELLITE], check=True, timeout=600)
    return python


@pytest.fixture
def satellite(satellite_python: Path, speech_wav: Path, tmp_path: Path) -> Iterator[tuple[Address, Path]]:
    """A running satellite (its address) and the file that lets its wake word fire."""
    go, speak = tmp_path / "go", tmp_path / "speak"
    port = free_port()
    command = [str(satellite_python), "-m", "wyoming_satellite", "--uri", f"tcp://127.0.0.1:{port}"]
    command += ["--name", "kids room", "--no-zeroconf", "--debug"]
    command += ["--mic-command", shlex.join([sys.executable, str(HERE / "mic_pacer.py"), str(speech_wav), str(speak)])]
    command += ["--wake-command", shlex.join([sys.executable, str(HERE / "fake_wake.py"), str(go), str(speak)])]
    # Its own session: the satellite, its microphone and its wake word detector stop together.
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield ("127.0.0.1", port), go
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)


async def connect(address: Address) -> AsyncTcpClient:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        client = AsyncTcpClient(*address)
        try:
            await client.connect()
            return client
        except OSError:
            assert asyncio.get_running_loop().time() < deadline, "the satellite did not start"
            await asyncio.sleep(0.2)


def loud(chunk: AudioChunk) -> bool:
    samples = np.frombuffer(chunk.audio, dtype="<i2").astype(np.float64)
    return bool(samples.size) and float(np.sqrt(np.mean(samples**2))) > SPEECH_RMS


async def forward_utterance(satellite: AsyncTcpClient, voxprint: AsyncTcpClient) -> None:
    """The satellite's audio, chunk by chunk, until END_SILENCE after speech."""
    await voxprint.write_event(Transcribe(language="en").event())
    started = heard_speech = False
    quiet = 0.0
    while not (heard_speech and quiet >= END_SILENCE):
        event = await asyncio.wait_for(satellite.read_event(), TIMEOUT)
        assert event is not None, "the satellite hung up"
        if not AudioChunk.is_type(event.type):
            continue
        chunk = AudioChunk.from_event(event)
        if not started:
            started = True
            await voxprint.write_event(AudioStart(rate=chunk.rate, width=chunk.width, channels=chunk.channels).event())
        await voxprint.write_event(chunk.event())
        if loud(chunk):
            heard_speech, quiet = True, 0.0
        elif heard_speech:
            quiet += chunk.seconds
    await voxprint.write_event(AudioStop().event())


async def home_assistant(satellite_address: Address, go: Path, voxprint_address: Address) -> str:
    """Home Assistant's part: run the satellite, hear one utterance through voxprint, answer it."""
    satellite = await connect(satellite_address)
    try:
        await satellite.write_event(RunSatellite().event())
        go.touch()
        assert await read_until(satellite, RunPipeline.is_type, TIMEOUT) is not None, "no wake word"
        async with AsyncTcpClient(*voxprint_address) as voxprint:
            await forward_utterance(satellite, voxprint)
            event = await read_until(voxprint, Transcript.is_type, TIMEOUT)
        assert event is not None, "voxprint gave no transcript"
        transcript = Transcript.from_event(event)
        await satellite.write_event(transcript.event())
        return transcript.text
    finally:
        await satellite.disconnect()


@pytest.mark.slow
async def test_a_phrase_said_to_a_real_wyoming_satellite_prints_the_jobs_exact_raster(
    server_factory, satellite: tuple[Address, Path], tmp_path: Path
) -> None:
    server = server_factory()
    printer = spool(tmp_path / "printer")
    mapping = tmp_path / "printers"
    mapping.write_text(f"default {printer.destination}\n")
    async with wyoming_gateway(server.target, printer_map=read_printer_map(mapping)) as gateway:
        text = await home_assistant(*satellite, wyoming_address(gateway))
        [job] = jobs(server)
        printed = await printer.printed(job.id)
    assert "penguin" in text.lower(), text
    raster = raw_raster(server, job.id)
    assert (printed.data, printed.height) == (raster.data, raster.height)
    assert server.stub.GetJob(voxprint_pb2.GetJobRequest(job_id=job.id)).transcript == text
