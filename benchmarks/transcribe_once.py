"""Decode once: a job's speech-to-text beside the bare transcriber, on the same clips.

    nice -n 10 python -m benchmarks.transcribe_once [--rounds 3] [--model base]

A real server on the offline defaults runs in this process (SQLite, local media, the pictogram
illustrator). Every clip — real people's short phrases from tests/data/speech and flite's — is
submitted over gRPC and waited for; right beside it, interleaved, the bare transcriber
(``WhisperTranscriber.transcribe`` on the file: one decode, Whisper, no voice detection) hears the
same clip. The job's speech-to-text is its ``transcribe`` stage as the server timed it: the speech
gate (one decode, voice detection once) and Whisper on the samples the gate handed on.

Printed: both medians and their ratio (target ≤ 1.05), the median whole job from Submit to
COMPLETED as the client saw it (target ≤ 1 s for a phrase of about 3 s), and the stages it is made of.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import RunningServer, offline_settings
from tests.support.speech import real_recordings, speak
from voxprint.clients import VoxprintClient
from voxprint.server import audio
from voxprint.server.transcribers import SAMPLE_RATE
from voxprint.server.transcribers.whisper import DEFAULT_MODEL, WhisperTranscriber
from voxprint.v1 import voxprint_pb2 as pb

TARGET_RATIO = 1.05
TARGET_JOB_SECONDS = 1.0
# Real phrases of about 3 s (2.8-4.0 s) and synthetic ones.
REAL_SOURCE = "ARCTIC"
FLITE_PHRASES = (
    "two penguins on the beach",
    "a rocket flies to the moon",
    "a dragon eating ice cream",
    "a lion wearing a crown",
    "a whale jumping out of the water",
    "a birthday cake with candles",
)
STAGES = (pb.STAGE_TRANSCRIBE, pb.STAGE_ILLUSTRATE, pb.STAGE_RASTERIZE)


@dataclass
class Samples:
    bare: list[float] = field(default_factory=list)
    transcribe_stage: list[float] = field(default_factory=list)
    job: list[float] = field(default_factory=list)
    stages: dict[int, list[float]] = field(default_factory=lambda: {stage: [] for stage in STAGES})
    clip_seconds: list[float] = field(default_factory=list)


def clips(directory: Path) -> list[Path]:
    real = [recording.path for recording in real_recordings() if recording.source == REAL_SOURCE]
    return real + [speak(phrase, directory / f"{index}.wav") for index, phrase in enumerate(FLITE_PHRASES)]


def measure(rounds: int, model: str, directory: Path) -> Samples:
    bare = WhisperTranscriber(model)
    recordings = clips(directory)
    server = RunningServer(offline_settings(directory / "data", whisper_model=model))
    samples = Samples()
    try:
        with VoxprintClient(server.target) as client:
            # Both sides warm: the model loaded (one per process, shared) and every code path run once.
            bare.transcribe(recordings[0])
            client.wait(client.submit(recordings[0]).id, timeout=120)
            for round_ in range(rounds):
                for recording in recordings:
                    started = time.perf_counter()
                    bare.transcribe(recording)
                    samples.bare.append(time.perf_counter() - started)

                    started = time.perf_counter()
                    job = client.wait(client.submit(recording).id, timeout=120)
                    samples.job.append(time.perf_counter() - started)
                    assert job.state == pb.JOB_STATE_COMPLETED and not job.error, job.error
                    timings = {timing.stage: timing.duration.ToTimedelta().total_seconds() for timing in job.timings}
                    samples.transcribe_stage.append(timings[pb.STAGE_TRANSCRIBE])
                    for stage in STAGES:
                        samples.stages[stage].append(timings[stage])
                    duration = len(audio.read_samples(recording, sample_rate=SAMPLE_RATE, max_seconds=60))
                    samples.clip_seconds.append(duration / SAMPLE_RATE)
                print(f"round {round_ + 1} of {rounds} done", flush=True)
    finally:
        server.stop()
    return samples


def report(samples: Samples, model: str) -> None:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    bare, stage = median(samples.bare), median(samples.transcribe_stage)
    pairs = [job / alone for job, alone in zip(samples.transcribe_stage, samples.bare, strict=True)]
    job = median(samples.job)
    print(f"\n{len(samples.bare)} clips of {median(samples.clip_seconds):.1f} s (median), Whisper {model}, 2 cores\n")
    print("| measure | median | target | |")
    print("|---|---:|---|---|")
    print(f"| bare transcriber (decode the file, Whisper) | {bare * 1000:.0f} ms | | |")
    print(f"| job's transcribe stage (speech gate: decode, voice detection; Whisper) | {stage * 1000:.0f} ms | | |")
    print(
        f"| job ÷ bare, of the medians | {stage / bare:.3f} | ≤ {TARGET_RATIO} | {verdict(stage / bare <= TARGET_RATIO)} |"
    )
    print(f"| job ÷ bare, median of the {len(pairs)} pairs | {median(pairs):.3f} | ≤ {TARGET_RATIO} | |")
    print(
        f"| whole job, Submit → COMPLETED seen by the client | {job * 1000:.0f} ms | ≤ {TARGET_JOB_SECONDS:.0f} s |"
        f" {verdict(job <= TARGET_JOB_SECONDS)} |"
    )
    for stage_value in STAGES:
        name = pb.Stage.Name(stage_value).removeprefix("STAGE_").lower()
        print(f"| … of which the {name} stage | {median(samples.stages[stage_value]) * 1000:.0f} ms | | |")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each clip is measured")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="base, tiny.en or a model directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        samples = measure(args.rounds, args.model, Path(directory))
    report(samples, args.model)


if __name__ == "__main__":
    main()
