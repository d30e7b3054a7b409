"""Speech-to-text accuracy: word error rate and speed of the offline Whisper transcriber.

    nice -n 10 python -m benchmarks.stt_accuracy [--quick] [--models tiny.en,base] [--prompt TEXT] ...

Every phrase of benchmarks/stt_sentences.txt is spoken by synthetic voices: every espeak-ng
English accent, every espeak-ng voice variant (on American English) and every flite voice.
Each voice says one phrase (voices take turns through the list), clean at 16 kHz; a panel of
voices also says its phrase slower, faster, at 8 and 44.1 kHz, and with pink noise at 20 and
10 dB SNR. Recordings are cached in a temp dir, so only the first run pays for synthesis.

Each clip goes through ``WhisperTranscriber.transcribe`` exactly as the server calls it. WER is
word-level edit distance over reference words after the same normalisation on both sides (case,
punctuation, hyphens, digits spelled out). Speed is the wall and CPU time of ``transcribe`` per
clip. "Prompt leaks" counts transcripts holding a word of the picture prompt that was not said.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.audio import wav_samples
from tests.support.speech import (
    CLEAN,
    PANEL_CONDITIONS,
    Clip,
    Condition,
    Voice,
    installed_voices,
    is_panel_voice,
    normalise,
    record,
    word_errors,
)
from voxprint.server.transcribers.whisper import (
    BUNDLED_MODEL_NAME,
    PICTURE_PROMPT,
    WhisperSettings,
    WhisperTranscriber,
)

SENTENCES = (Path(__file__).with_name("stt_sentences.txt")).read_text().splitlines()


PROMPT_WORDS = set(normalise(PICTURE_PROMPT)) - {"a", "an", "with"}


def plan(voices: Sequence[Voice], conditions: Iterable[Condition]) -> list[Clip]:
    """Voice i says sentence i (mod the list) clean; panel voices say the same sentence in every condition."""
    said = {voice: SENTENCES[i % len(SENTENCES)] for i, voice in enumerate(voices)}
    clips = [Clip(voice, sentence, CLEAN) for voice, sentence in said.items()]
    for condition in conditions:
        clips += [Clip(voice, sentence, condition) for voice, sentence in said.items() if is_panel_voice(voice)]
    return clips


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    clip: Clip
    model: str
    transcript: str
    errors: int
    words: int
    seconds: float
    cpu_seconds: float
    duration: float
    # The transcript has a word of the picture prompt that was not said: the prompt leaked into it.
    leaked: bool


def measure(transcriber: WhisperTranscriber, model: str, clips: Sequence[Clip], cache: Path) -> list[Result]:
    _ = transcriber.model  # load before timing, not during the first clip
    results = []
    for clip in clips:
        path = record(clip, cache)
        samples, rate = wav_samples(path)
        started, cpu_started = time.perf_counter(), time.process_time()
        transcript = transcriber.transcribe(path)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        reference, heard = normalise(clip.sentence), normalise(transcript)
        leaked = bool(set(heard) & (PROMPT_WORDS - set(reference)))
        errors = word_errors(reference, heard)
        results.append(
            Result(clip, model, transcript, errors, len(reference), seconds, cpu_seconds, len(samples) / rate, leaked)
        )
    return results


def wer(results: Sequence[Result]) -> float:
    return sum(result.errors for result in results) / sum(result.words for result in results)


def summary_row(label: str, results: Sequence[Result]) -> str:
    real_time_factor = sum(r.seconds for r in results) / sum(r.duration for r in results)
    wall = statistics.median(r.seconds for r in results)
    cpu = statistics.median(r.cpu_seconds for r in results)
    mean_duration = statistics.mean(r.duration for r in results)
    return (
        f"| {label} | {len(results)} | {wer(results):.3f} | {real_time_factor:.2f} | {wall:.2f} s | {cpu:.2f} s"
        f" | {max(r.seconds for r in results):.2f} s | {mean_duration:.1f} s | {sum(r.leaked for r in results)} |"
    )


def report(results: Sequence[Result], worst: int) -> None:
    by_model: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_model[result.model].append(result)
    columns = (
        "clips | WER | real-time factor | median wall s/clip | median CPU s/clip | max wall | mean clip | prompt leaks"
    )
    print(f"| model, condition | {columns} |")
    print("|---" + "|---:" * (columns.count("|") + 1) + "|")
    for model, model_results in by_model.items():
        clean = [r for r in model_results if r.clip.condition == CLEAN]
        print(summary_row(f"**{model}, {CLEAN.name}, all voices**", clean))
        for family in sorted({r.clip.voice.family for r in clean}):
            print(summary_row(f"{model}, {CLEAN.name}, {family}", [r for r in clean if r.clip.voice.family == family]))
        print(summary_row(f"{model}, {CLEAN.name}, panel voices", [r for r in clean if is_panel_voice(r.clip.voice)]))
        for condition in PANEL_CONDITIONS:
            selected = [r for r in model_results if r.clip.condition == condition]
            if selected:
                print(summary_row(f"{model}, {condition.name}", selected))
        print(summary_row(f"{model}, everything", model_results))
    for model, model_results in by_model.items():
        print(f"\n{model}: clips with the most errors")
        for result in sorted(model_results, key=lambda r: r.errors / r.words, reverse=True)[:worst]:
            if result.errors:
                clip = result.clip
                print(
                    f"  {clip.voice.engine} {clip.voice.name:24} {clip.condition.name:22} {clip.sentence!r} → {result.transcript!r}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few voices and conditions, for development")
    parser.add_argument(
        "--models", default=f"{BUNDLED_MODEL_NAME},base", help="comma list: tiny.en, base or a directory"
    )
    parser.add_argument("--tempo", type=float, default=WhisperSettings.tempo, help="playback speed before decoding")
    parser.add_argument("--beam-size", type=int, default=WhisperSettings.beam_size)
    parser.add_argument("--prompt", default=WhisperSettings.initial_prompt, help="initial prompt; empty for none")
    parser.add_argument("--no-vad", action="store_true", help="decode without VAD trimming")
    parser.add_argument("--no-fallback", action="store_true", help="greedy only: no temperature fallback")
    parser.add_argument("--worst", type=int, default=12, help="how many misheard clips to list per model")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "voxprint-stt-bench")
    args = parser.parse_args()
    for tool in ("espeak-ng", "flite", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install espeak-ng flite sox")

    settings = WhisperSettings(
        tempo=args.tempo,
        beam_size=args.beam_size,
        initial_prompt=args.prompt or None,
        vad_filter=not args.no_vad,
        temperatures=(0.0,) if args.no_fallback else WhisperSettings.temperatures,
    )
    voices = installed_voices()
    conditions: tuple[Condition, ...] = PANEL_CONDITIONS
    if args.quick:
        voices = [voice for voice in voices if is_panel_voice(voice)]
        conditions = (PANEL_CONDITIONS[0], PANEL_CONDITIONS[-1])
    clips = plan(voices, conditions)
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"{len(voices)} voices, {len(clips)} clips per model; settings: {settings}\n")

    results: list[Result] = []
    for model in args.models.split(","):
        transcriber = WhisperTranscriber(None if model == BUNDLED_MODEL_NAME else model, settings)
        results += measure(transcriber, model, clips, args.cache)
    report(results, args.worst)
    print("\nTarget for the default model: WER ≤ 0.10 on the clean set at ≤ 1 s per 3 s clip.")


if __name__ == "__main__":
    main()
