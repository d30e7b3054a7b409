"""Sooner to paper: from the last word spoken to the raster whole at the device.

    nice -n 10 python -m benchmarks.speech_to_paper [--rounds 3] [--model base] [--hangover 0] [--paths device,wyoming]

Everything runs in this process on loopback, as deployed: a real server on the offline defaults
(SQLite, local media, Whisper, the pictogram illustrator) and a gateway with its default settings.
Real people's phrases of about 3 s (tests/data/speech, CMU ARCTIC) reach it two ways:

* device: the device simulator plays the phrase to the gateway's UDP port in real time, exactly as
  firmware streams a microphone, and receives the raster back. Speech end is when it sends the
  datagram that carries the last sample of speech (Silero VAD on the clip finds it); the end is
  when the raster is whole at the device.
* wyoming: Home Assistant's speech-to-text sequence (``benchmarks.wyoming_latency``) streams the
  phrase to the gateway's Wyoming port; speech end is its ``audio-stop`` (the satellite's voice
  detector has heard the end), the end is the ESC/POS printout whole at a loopback printer.

In between, the parts are timed where they happen: the server's speech gate and Whisper are
wrapped to note when they start and end, the job's stage timings give the picture and the raster,
and its COMPLETED time starts the delivery. ``--hangover S`` adds S seconds of silence after each
phrase, as a device that waits for quiet before it stops recording would send.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from benchmarks.wyoming_latency import Printer, wyoming_asr
from tests.support.audio import wav_of
from tests.support.servers import RunningServer, offline_settings
from tests.support.speech import real_recordings
from voxprint.clients import AsyncVoxprintClient
from voxprint.clients.device_sim import SimulatedDevice, read_wav
from voxprint.clients.gateway.main import Gateway, GatewayConfig
from voxprint.clients.gateway.protocol import Audio, Message
from voxprint.clients.gateway.wyoming import WyomingConfig
from voxprint.server import audio
from voxprint.server.transcribers import SAMPLE_RATE, Samples
from voxprint.server.transcribers.speech_gate import SpeechGate
from voxprint.server.transcribers.whisper import DEFAULT_MODEL, WhisperTranscriber
from voxprint.v1 import voxprint_pb2 as pb

TARGET_SECONDS = 0.6
SOURCE = "ARCTIC"  # real phrases of 2.8-4.0 s
DATAGRAM_BYTES = 1024  # the simulator's default


class TimedGate(SpeechGate):
    """The server's speech gate and Whisper, noting when each ran for each job (by recording)."""

    def __init__(self, backend: WhisperTranscriber, max_seconds: float) -> None:
        super().__init__(backend, max_seconds=max_seconds)
        self.marks: dict[str, dict[str, float]] = {}

    def transcribe(self, audio_path: Path, samples: Samples | None = None) -> str:
        marks = self.marks.setdefault(audio_path.stem, {})
        marks["gate"] = time.time()
        speech = self.speech(audio_path, samples)
        marks["decode"] = time.time()
        heard = self.backend.transcribe(audio_path, speech)
        marks["decoded"] = time.time()
        return heard


class TimedDevice(SimulatedDevice):
    """The simulated device, noting when it first sent each audio datagram."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.sent: dict[int, float] = {}

    def _send(self, message: Message) -> None:
        if isinstance(message, Audio):
            self.sent.setdefault(message.sequence, time.time())
        super()._send(message)


PARTS = (
    (
        "upload",
        "speech end → the worker starts the job (the rest of the recording and its end arrive, the gateway submits, the server stores)",
    ),
    ("gate", "speech gate: decode once, find the speech"),
    ("decode", "Whisper"),
    ("picture", "illustrate stage (pictogram, PNG stored)"),
    ("raster", "rasterize stage"),
    ("in between", "database writes and events between the stages"),
    ("delivery", "COMPLETED → raster whole at the device (Watch, Fetch RAW, UDP chunks or ESC/POS)"),
)
PATHS = ("device", "wyoming")


@dataclass
class Trip:
    parts: dict[str, float] = field(default_factory=dict)
    total: float = 0.0
    transcript: str = ""


def speech_end_seconds(path: Path) -> float:
    samples = audio.read_samples(path, sample_rate=SAMPLE_RATE, max_seconds=60)
    # The last word: no padding, and any pause of 0.1 s ends a stretch of speech.
    options = VadOptions(speech_pad_ms=0, min_silence_duration_ms=100)
    spoken = get_speech_timestamps(samples, options, sampling_rate=SAMPLE_RATE)
    return spoken[-1]["end"] / SAMPLE_RATE


def phrase_file(path: Path, hangover: float, directory: Path) -> Path:
    """The phrase as the device records it: with ``hangover`` seconds of silence after it."""
    if not hangover:
        return path
    samples = audio.read_samples(path, sample_rate=SAMPLE_RATE, max_seconds=60).astype(np.float64)
    padded = directory / f"{path.stem}-hangover.wav"
    padded.write_bytes(wav_of(np.concatenate([samples, np.zeros(int(hangover * SAMPLE_RATE))]), SAMPLE_RATE))
    return padded


async def device_trip(gateway: Gateway, clip: Path) -> tuple[float, float, str]:
    """Speech end, raster whole at the device (wall clock), and the job, for one phrase played."""
    pcm = read_wav(clip)
    device = TimedDevice(gateway.address)
    result = await device.run(pcm, timeout=60)
    arrived = time.time()
    assert result.raster is not None and result.job_id is not None, f"no raster: {result}"
    step = DATAGRAM_BYTES - DATAGRAM_BYTES % pcm.format.frame_size
    last_speech_byte = int(speech_end_seconds(clip) * pcm.format.sample_rate) * pcm.format.frame_size
    return device.sent[min(last_speech_byte // step, max(device.sent))], arrived, str(result.job_id)


async def wyoming_trip(gateway: Gateway, printer: Printer, gate: TimedGate, clip: Path) -> tuple[float, float, str]:
    """Speech end (``audio-stop``), printout whole at the printer (wall clock), and the job."""
    assert gateway.wyoming_address is not None
    samples = audio.read_samples(clip, sample_rate=SAMPLE_RATE, max_seconds=60)
    # A few ms of silence more on each trip: the gateway knows a recording it has heard before as
    # the same job, by design.
    unique = np.concatenate([samples, np.zeros(len(gate.marks) * SAMPLE_RATE // 100, np.float32)])
    pcm = (unique * 32767).astype("<i2").tobytes()
    jobs_before = set(gate.marks)
    _heard, seconds = await wyoming_asr(gateway.wyoming_address, pcm)
    # wyoming_asr times audio-stop → transcript on the monotonic clock; the marks are wall-clock.
    transcript_at = time.perf_counter()
    printed = await printer.next_printout()
    now_wall, now_monotonic = time.time(), time.perf_counter()
    speech_end = now_wall - (now_monotonic - transcript_at) - seconds
    (job_id,) = set(gate.marks) - jobs_before
    return speech_end, now_wall - (now_monotonic - printed), job_id


async def one_trip(
    path: str, gateway: Gateway, printer: Printer, client: AsyncVoxprintClient, gate: TimedGate, clip: Path
) -> Trip:
    if path == "device":
        speech_end, arrived, job_id = await device_trip(gateway, clip)
    else:
        speech_end, arrived, job_id = await wyoming_trip(gateway, printer, gate, clip)
    job = await client.get(job_id)
    marks = gate.marks[job_id]
    timings = {timing.stage: timing.duration.ToTimedelta().total_seconds() for timing in job.timings}
    completed = job.updated_at.ToNanoseconds() / 1e9
    trip = Trip(total=arrived - speech_end, transcript=job.transcript)
    trip.parts = {
        "upload": marks["gate"] - speech_end,
        "gate": marks["decode"] - marks["gate"],
        "decode": marks["decoded"] - marks["decode"],
        "picture": timings[pb.STAGE_ILLUSTRATE],
        "raster": timings[pb.STAGE_RASTERIZE],
        "delivery": arrived - completed,
    }
    trip.parts["in between"] = (completed - marks["decoded"]) - trip.parts["picture"] - trip.parts["raster"]
    return trip


async def measure(
    rounds: int, model: str, hangover: float, paths: list[str], directory: Path
) -> tuple[dict[str, list[Trip]], float]:
    settings = offline_settings(directory / "data", whisper_model=model)
    gate = TimedGate(WhisperTranscriber(model), settings.max_audio_seconds)
    gate.warm_up()
    server = RunningServer(settings, transcriber=gate)
    clips = [phrase_file(r.path, hangover, directory) for r in real_recordings() if r.source == SOURCE]
    trips: dict[str, list[Trip]] = {path: [] for path in paths}
    printer = Printer()
    try:
        async with AsyncVoxprintClient(server.target) as client:
            config = GatewayConfig(
                listen=("127.0.0.1", 0),
                deliver=("udp", await printer.start()),
                # Each phrase is said again in a later round: no memory of recent phrases to skip it.
                wyoming=WyomingConfig(listen=("127.0.0.1", 0), repeat_window=0.0),
                counters_interval=3600.0,
            )
            gateway = Gateway(config, client)
            await gateway.start()
            try:
                for path in paths:  # every path run once before timing
                    await one_trip(path, gateway, printer, client, gate, clips[0])
                    if path == "device":
                        await printer.next_printout()  # the device's job is printed too
                for round_ in range(rounds):
                    for clip in clips:
                        for path in paths:  # interleaved, so both see the same machine
                            trip = await one_trip(path, gateway, printer, client, gate, clip)
                            if path == "device":
                                await printer.next_printout()
                            trips[path].append(trip)
                            print(f"round {round_ + 1}, {path}: {trip.total * 1000:.0f} ms, heard {trip.transcript!r}")
            finally:
                await gateway.close()
    finally:
        printer.close()
        server.stop()
    durations = [len(audio.read_samples(c, sample_rate=SAMPLE_RATE, max_seconds=60)) / SAMPLE_RATE for c in clips]
    return trips, statistics.median(durations)


def report(path: str, trips: list[Trip], model: str, hangover: float, clip_seconds: float) -> None:
    total = statistics.median(trip.total for trip in trips)
    print(
        f"\n{path}: {len(trips)} trips, phrases of {clip_seconds:.1f} s (median) with {hangover:g} s hangover,"
        f" Whisper {model}, everything on loopback, 2 cores\n"
    )
    print("| part | what | median | mean |")
    print("|---|---|---:|---:|")
    for name, what in PARTS:
        values = [trip.parts[name] for trip in trips]
        print(
            f"| {name} | {what} | {statistics.median(values) * 1000:.0f} ms | {statistics.mean(values) * 1000:.0f} ms |"
        )
    mean_total = statistics.mean(trip.total for trip in trips)
    print(
        f"| **speech end → raster at the device** | measured end to end (the parts add up to each trip) | **{total * 1000:.0f} ms** | {mean_total * 1000:.0f} ms |"
    )
    print("\n| measure | median | target | |\n|---|---:|---|---|")
    verdict = "met" if total <= TARGET_SECONDS else "NOT MET"
    print(f"| {path}: speech end → raster at the device | {total:.3f} s | ≤ {TARGET_SECONDS} s | {verdict} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each phrase is played")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="base, tiny.en or a model directory")
    parser.add_argument("--hangover", type=float, default=0.0, help="seconds of silence the device sends after speech")
    parser.add_argument("--paths", default=",".join(PATHS), help="comma list: device (UDP), wyoming")
    args = parser.parse_args()
    paths = args.paths.split(",")
    with tempfile.TemporaryDirectory() as directory:
        trips, clip_seconds = asyncio.run(measure(args.rounds, args.model, args.hangover, paths, Path(directory)))
    for path in paths:
        report(path, trips[path], args.model, args.hangover, clip_seconds)


if __name__ == "__main__":
    main()
