"""Audio bombs: the peak memory growth of a process handling each one, against issue 10's target.

    python -m benchmarks.audio_bombs

Each bomb is handled twice, each time in a fresh child process: as Submit handles an upload
(``audio.inspect`` with the default 60 s limit) and as a worker's speech-to-text handles a stored
recording (the gated offline transcriber ``create_transcriber`` builds). The child builds the bomb
and the handler, restarts the kernel's peak-RSS mark (VmHWM), handles the bomb, and reports how far
VmHWM rose above the RSS it started from. Every figure printed is measured in this run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.hostile_audio import BOMBS, MIB, RSS_GROWTH_TARGET, peak_rss, reset_peak_rss
from voxprint.server import audio
from voxprint.server.config import Settings
from voxprint.server.transcribers import TranscriptionError, create_transcriber

MAX_SECONDS = Settings().max_audio_seconds
Handler = Callable[[bytes, Path], object]


def submit_check() -> Handler:
    return lambda data, _path: audio.inspect(data, max_seconds=MAX_SECONDS)


def worker_transcription() -> Handler:
    transcriber = create_transcriber(Settings(transcriber="whisper", max_audio_seconds=MAX_SECONDS))
    return lambda _data, path: transcriber.transcribe(path)


# What handles a bomb in the server, each made ready (modules imported, backend built) before measuring.
HANDLERS: dict[str, Callable[[], Handler]] = {
    "Submit (inspect)": submit_check,
    "worker (speech gate)": worker_transcription,
}


def handle_in_this_process(bomb: str, handler_name: str) -> dict:
    data = BOMBS[bomb]()
    handle = HANDLERS[handler_name]()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "stored-recording"
        path.write_bytes(data)
        start_rss = reset_peak_rss()
        started = time.perf_counter()
        try:
            handle(data, path)
            outcome = "accepted"
        except (audio.InvalidAudio, TranscriptionError) as refusal:
            outcome = f"refused: {refusal}"
        seconds = time.perf_counter() - started
    return {"size": len(data), "growth": peak_rss() - start_rss, "seconds": seconds, "outcome": outcome}


def measure_in_child(bomb: str, handler: str) -> dict:
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.audio_bombs", "--child", bomb, handler],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, metavar=("BOMB", "HANDLER"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(handle_in_this_process(*arguments.child)))
        return

    print(f"limit {MAX_SECONDS:g} s; target: peak RSS growth < {RSS_GROWTH_TARGET / MIB:.0f} MiB\n")
    print(
        f"| {'bomb':<42} | {'size':>9} | {'handled by':<20} | {'peak RSS growth':>15} | {'time':>8} | target | outcome"
    )
    print(f"|{'-' * 44}|{'-' * 11}|{'-' * 22}|{'-' * 17}|{'-' * 10}|--------|---------")
    for bomb in BOMBS:
        for handler in HANDLERS:
            result = measure_in_child(bomb, handler)
            met = "met" if result["growth"] < RSS_GROWTH_TARGET else "MISSED"
            print(
                f"| {bomb:<42} | {result['size'] / 1024:>6.0f} KB | {handler:<20} "
                f"| {result['growth'] / MIB:>11.1f} MiB | {result['seconds'] * 1000:>5.0f} ms | {met:<6} "
                f"| {result['outcome']}"
            )


if __name__ == "__main__":
    main()
