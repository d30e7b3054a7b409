"""The device simulator plays any WAV the server accepts, converting what a device would not
send to 16-bit PCM, refuses anything else with one line, and names the preview it writes; it
echoes its cookie at once, and pays for a fresh one with a padded QUERY when nothing answers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.audio import encoded_bytes, tone, wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.gateway import GatewayProcess
from voxprint.clients.device_sim import Pcm, SimulatedDevice, read_wav
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import AudioFormat
from voxprint.clients.gateway.protocol import NO_COOKIE, Audio, AudioFlag, JobNotice, Query, SampleFormat

RATE = 16_000
SECONDS = 0.5


def simulator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxprint.clients.device_sim", *args], capture_output=True, text=True, timeout=60
    )


def samples(data: bytes, fmt: AudioFormat) -> np.ndarray:
    """The first channel as floats in [-1, 1]."""
    if fmt.sample_format is SampleFormat.U8:
        interleaved = (np.frombuffer(data, np.uint8).astype(float) - 128) / 128
    else:
        interleaved = np.frombuffer(data, "<i2") / 32768
    return interleaved[:: fmt.channels]


@pytest.mark.parametrize("codec", ["pcm_mulaw", "pcm_alaw", "pcm_f32le", "pcm_f64le"])
def test_a_wav_a_device_would_not_send_becomes_16_bit_pcm_of_the_same_sound(tmp_path: Path, codec: str) -> None:
    path = tmp_path / f"{codec}.wav"
    path.write_bytes(encoded_bytes("wav", codec, SECONDS, RATE))
    pcm = read_wav(path)
    assert pcm.format == AudioFormat(RATE, 1, SampleFormat.S16LE)
    assert np.abs(samples(pcm.data, pcm.format) - tone(SECONDS, RATE)).max() < 0.03


@pytest.mark.parametrize(("channels", "width", "encoding"), [(1, 1, SampleFormat.U8), (2, 2, SampleFormat.S16LE)])
def test_integer_pcm_is_sent_as_it_is(tmp_path: Path, channels: int, width: int, encoding: SampleFormat) -> None:
    path = tmp_path / "pcm.wav"
    path.write_bytes(wav_bytes(SECONDS, rate=RATE, channels=channels, sample_width=width))
    pcm = read_wav(path)
    assert pcm.format == AudioFormat(RATE, channels, encoding)
    assert np.abs(samples(pcm.data, pcm.format) - tone(SECONDS, RATE)).max() < 0.02


def test_an_unsupported_wav_format_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    wav = bytearray(wav_bytes(SECONDS))
    fmt_chunk = wav.index(b"fmt ")
    wav[fmt_chunk + 8 : fmt_chunk + 10] = (0xBEEF).to_bytes(2, "little")  # no codec has this tag
    path = tmp_path / "beef.wav"
    path.write_bytes(bytes(wav))
    refused = simulator(str(path), "--gateway", "127.0.0.1:9")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"Error: beef.wav: unsupported audio format (unknown format: {0xBEEF})"
    ]


def test_a_file_that_is_not_audio_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("shopping list\n")
    refused = simulator(str(path), "--gateway", "127.0.0.1:9")
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("Error: notes.wav: not a readable recording")


def test_each_file_it_writes_is_named_in_a_line(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    recording, preview, raster = tmp_path / "cat.wav", tmp_path / "out.png", tmp_path / "out.bin"
    recording.write_bytes(wav_bytes(SECONDS))
    gateway = GatewayProcess(server.target, tmp_path / "gateway-state")
    try:
        host, port = gateway.address
        played = simulator(
            str(recording),
            "--gateway",
            f"{host}:{port}",
            "--speed",
            "8",
            "--preview",
            str(preview),
            "--raster-out",
            str(raster),
        )
    finally:
        gateway.stop()
    assert played.returncode == 0, played.stdout + played.stderr
    assert Image.open(preview).format == "PNG" and raster.stat().st_size > 0
    lines = played.stdout.splitlines()
    assert f"wrote preview → {preview}" in lines and f"wrote raster → {raster}" in lines


def test_help_shows_no_python_internals() -> None:
    shown = simulator("--help")
    assert shown.returncode == 0 and "--device-key HEX" in shown.stdout
    assert "<LAMBDA>" not in shown.stdout and "<function" not in shown.stdout


COOKIE = bytes.fromhex("a1b2c3d4e5f60718")


class NoticeOnce(asyncio.DatagramProtocol):
    """A gateway that answers a recording's END with one notice carrying COOKIE, then nothing."""

    def __init__(self) -> None:
        self.queries: list[Query] = []
        self.sizes: list[int] = []

    def connection_made(self, transport: asyncio.DatagramTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = protocol.decode(data)
        if isinstance(message, Audio) and AudioFlag.END in message.flags and not self.queries:
            notice = JobNotice(message.device_id, message.session_id, uuid.UUID(int=0), 0, cookie=COOKIE)
            self.transport.sendto(protocol.encode(notice), addr)
        elif isinstance(message, Query):
            self.queries.append(message)
            self.sizes.append(len(data))


async def test_a_device_echoes_a_new_cookie_at_once_and_pays_for_a_fresh_one_when_nothing_answers() -> None:
    loop = asyncio.get_running_loop()
    transport, gateway = await loop.create_datagram_endpoint(NoticeOnce, local_addr=("127.0.0.1", 0))
    try:
        device = SimulatedDevice(transport.get_extra_info("sockname"), speed=50.0, retry_interval=0.05)
        await device.run(Pcm(AudioFormat(RATE, 1, SampleFormat.S16LE), bytes(3200)), timeout=0.5)
    finally:
        transport.close()
    cookies = [query.cookie for query in gateway.queries]
    # The echo, then the cookie while it may still be answered, then padded QUERYs to pay for a new one.
    assert cookies[:3] == [COOKIE] * 3 and set(cookies[3:]) == {NO_COOKIE}
    assert gateway.sizes[:3] == [protocol.QUERY_SIZE] * 3 and set(gateway.sizes[3:]) == {protocol.MAX_DATAGRAM_SIZE}
