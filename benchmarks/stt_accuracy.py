"""Speech-to-text accuracy: word error rate, picture-word recall and speed of the offline
Whisper transcriber, on synthetic voices and on real people's recordings.

    nice -n 10 python -m benchmarks.stt_accuracy [--quick] [--models base,tiny.en] [--prompt TEXT] ...

The synthetic set: every phrase of benchmarks/stt_sentences.txt is spoken by synthetic voices:
every espeak-ng English accent, every espeak-ng voice variant (on American English) and every
flite voice. Each voice says one phrase (voices take turns through the list), clean at 16 kHz; a
panel of voices also says its phrase slower, faster, at 8 and 44.1 kHz, and with pink noise at 20
and 10 dB SNR. Recordings are cached in a temp dir, so only the first run pays for synthesis.
The real set: the 38 recordings of six people in tests/data/speech (SOURCES.md there).

Each clip goes through the speech gate and ``WhisperTranscriber`` exactly as the server's worker
calls them (decoded once, voice found, speech handed on). WER is word-level edit distance over
reference words after the same normalisation on both sides (case, punctuation, hyphens, digits
spelled out). Picture-word recall is the share of the reference's nouns, as the pictogram
illustrator reads them (the things it draws), that the transcript has. Speed is the wall and CPU
time of ``transcribe`` per clip. "Prompt leaks" counts transcripts holding a word of the picture
prompt that was not said.
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
from dataclasses import dataclass, replace
from pathlib import Path

from tests.support.speech import (
    CLEAN,
    PANEL_CONDITIONS,
    REAL,
    Clip,
    Condition,
    Voice,
    installed_voices,
    is_panel_voice,
    normalise,
    picture_words,
    real_recordings,
    recalled,
    record,
    word_errors,
)
from voxprint.server import audio
from voxprint.server.config import Settings
from voxprint.server.transcribers import SAMPLE_RATE, TranscriptionError
from voxprint.server.transcribers.speech_gate import SpeechGate
from voxprint.server.transcribers.whisper import (
    BUNDLED_MODEL_NAME,
    DEFAULT_MODEL,
    PICTURE_PROMPT,
    WhisperSettings,
    WhisperTranscriber,
    measured_settings,
)

SENTENCES = (Path(__file__).with_name("stt_sentences.txt")).read_text().splitlines()


PROMPT_WORDS = set(normalise(PICTURE_PROMPT)) - {"a", "an", "with"}

# The targets, set for the default model (issue 19): word error rate on the synthetic clean set
# and on the real recordings, picture-word recall on both, wall time per 3 s of recording (each
# clip's time scaled to 3 s of its audio; the median clip), and prompt leaks over every synthetic
# clip no more than tiny.en's before issue 19 (docs/speech.md, the same 222 clips).
TARGET_WER = 0.15
# The synthetic clean set's target before issue 19, still printed (issue 19 set 0.10 for real speech).
EARLIER_TARGET_WER = 0.10
TARGET_REAL_WER = 0.10
TARGET_RECALL = 0.95
TARGET_SECONDS_PER_3_S = 1.0
TARGET_PROMPT_LEAKS = 5


def plan(voices: Sequence[Voice], conditions: Iterable[Condition]) -> list[Clip]:
    """Voice i says sentence i (mod the list) clean; panel voices say the same sentence in every condition."""
    said = {voice: SENTENCES[i % len(SENTENCES)] for i, voice in enumerate(voices)}
    clips = [Clip(voice, sentence, CLEAN) for voice, sentence in said.items()]
    for condition in conditions:
        clips += [Clip(voice, sentence, condition) for voice, sentence in said.items() if is_panel_voice(voice)]
    return clips


def recordings(clips: Sequence[Clip], cache: Path, real: bool) -> list[tuple[Clip, Path]]:
    """The synthetic clips' recordings (made on first use), then, with ``real``, the real ones."""
    said = [(clip, record(clip, cache)) for clip in clips]
    if real:
        said += [(Clip(Voice("human", r.speaker), r.sentence, REAL), r.path) for r in real_recordings()]
    return said


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
    # The reference's picture words (nouns the illustrator draws), and how many the transcript has.
    nouns: int
    nouns_heard: int


def measure(transcriber: SpeechGate, model: str, clips: Sequence[tuple[Clip, Path]]) -> list[Result]:
    transcriber.warm_up()  # load before timing, not during the first clip
    results = []
    for clip, path in clips:
        duration = len(audio.read_samples(path, sample_rate=SAMPLE_RATE, max_seconds=60)) / SAMPLE_RATE
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            transcript = transcriber.transcribe(path)
        except TranscriptionError:  # the gate heard no speech: nothing transcribed
            transcript = ""
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        reference, heard = normalise(clip.sentence), normalise(transcript)
        leaked = bool(set(heard) & (PROMPT_WORDS - set(reference)))
        errors = word_errors(reference, heard)
        nouns = picture_words(clip.sentence)
        results.append(
            Result(
                clip,
                model,
                transcript,
                errors,
                len(reference),
                seconds,
                cpu_seconds,
                duration,
                leaked,
                len(nouns),
                sum(recalled(noun, heard) for noun in nouns),
            )
        )
    return results


def wer(results: Sequence[Result]) -> float:
    return sum(result.errors for result in results) / sum(result.words for result in results)


def recall(results: Sequence[Result]) -> float:
    return sum(result.nouns_heard for result in results) / sum(result.nouns for result in results)


def summary_row(label: str, results: Sequence[Result]) -> str:
    real_time_factor = sum(r.seconds for r in results) / sum(r.duration for r in results)
    wall = statistics.median(r.seconds for r in results)
    cpu = statistics.median(r.cpu_seconds for r in results)
    mean_duration = statistics.mean(r.duration for r in results)
    return (
        f"| {label} | {len(results)} | {wer(results):.3f} | {recall(results):.3f} | {real_time_factor:.2f}"
        f" | {wall:.2f} s | {cpu:.2f} s | {max(r.seconds for r in results):.2f} s | {mean_duration:.1f} s"
        f" | {sum(r.leaked for r in results)} |"
    )


def report(results: Sequence[Result], worst: int) -> None:
    by_model: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_model[result.model].append(result)
    columns = (
        "clips | WER | picture-word recall | real-time factor | median wall s/clip | median CPU s/clip | max wall"
        " | mean clip | prompt leaks"
    )
    print(f"| model, condition | {columns} |")
    print("|---" + "|---:" * (columns.count("|") + 1) + "|")
    for model, everything in by_model.items():
        model_results = [r for r in everything if r.clip.condition != REAL]
        clean = [r for r in model_results if r.clip.condition == CLEAN]
        real = [r for r in everything if r.clip.condition == REAL]
        if real:
            print(summary_row(f"**{model}, real people, all {len(real)} recordings**", real))
            for speaker in dict.fromkeys(r.clip.voice.name for r in real):
                print(summary_row(f"{model}, {speaker}", [r for r in real if r.clip.voice.name == speaker]))
        if not clean:
            continue
        print(summary_row(f"**{model}, {CLEAN.name}, all voices**", clean))
        for family in sorted({r.clip.voice.family for r in clean}):
            print(summary_row(f"{model}, {CLEAN.name}, {family}", [r for r in clean if r.clip.voice.family == family]))
        print(summary_row(f"{model}, {CLEAN.name}, panel voices", [r for r in clean if is_panel_voice(r.clip.voice)]))
        for condition in PANEL_CONDITIONS:
            selected = [r for r in model_results if r.clip.condition == condition]
            if selected:
                print(summary_row(f"{model}, {condition.name}", selected))
        print(summary_row(f"{model}, all synthetic clips", model_results))
    for model, model_results in by_model.items():
        print(f"\n{model}: clips with the most errors")
        for result in sorted(model_results, key=lambda r: r.errors / r.words, reverse=True)[:worst]:
            if result.errors:
                clip = result.clip
                print(
                    f"  {clip.voice.engine} {clip.voice.name:24} {clip.condition.name:22} {clip.sentence!r} → {result.transcript!r}"
                )


def verdicts(results: Sequence[Result]) -> None:
    """Each model's figures beside the targets, with a verdict; the targets are the default
    model's to meet, the other models' verdicts are for comparison."""
    print("\n| model | measure | result | target | |")
    print("|---|---|---:|---|---|")
    for model in dict.fromkeys(result.model for result in results):
        label = f"{model} (default)" if model == DEFAULT_MODEL else model
        real = [r for r in results if r.model == model and r.clip.condition == REAL]
        synthetic = [r for r in results if r.model == model and r.clip.condition != REAL]
        clean = [r for r in synthetic if r.clip.condition == CLEAN]
        for name, chosen, wer_target in (
            ("synthetic clean set", clean, TARGET_WER),
            ("real set", real, TARGET_REAL_WER),
        ):
            if not chosen:
                continue
            word_error_rate, picture_recall = wer(chosen), recall(chosen)
            print(
                f"| {label} | {name}: WER, {sum(r.errors for r in chosen)} errors in {sum(r.words for r in chosen)}"
                f" words | {word_error_rate:.3f} | ≤ {wer_target:.2f} | {met(word_error_rate <= wer_target)} |"
            )
            if chosen is clean:
                print(
                    f"| {label} | {name}: WER, the target before issue 19 | {word_error_rate:.3f}"
                    f" | ≤ {EARLIER_TARGET_WER:.2f} | {met(word_error_rate <= EARLIER_TARGET_WER)} |"
                )
            print(
                f"| {label} | {name}: picture-word recall, {sum(r.nouns_heard for r in chosen)} of"
                f" {sum(r.nouns for r in chosen)} nouns | {picture_recall:.3f} | ≥ {TARGET_RECALL:.2f}"
                f" | {met(picture_recall >= TARGET_RECALL)} |"
            )
        if clean:
            per_3_s = statistics.median(r.seconds * 3 / r.duration for r in clean)
            print(
                f"| {label} | median wall time per 3 s of audio, {len(clean)} clips"
                f" | {per_3_s:.2f} s | ≤ {TARGET_SECONDS_PER_3_S:.0f} s | {met(per_3_s <= TARGET_SECONDS_PER_3_S)} |"
            )
        if synthetic:
            leaks = sum(r.leaked for r in synthetic)
            print(
                f"| {label} | prompt leaks, {len(synthetic)} synthetic clips (the target counts the full run's 222)"
                f" | {leaks} | ≤ {TARGET_PROMPT_LEAKS} | {met(leaks <= TARGET_PROMPT_LEAKS)} |"
            )


def _flag_given(name: str, args: argparse.Namespace) -> bool:
    """Whether a flag that turns a setting off ("" or 0) was given."""
    flag = {"initial_prompt": args.prompt, "hotwords": args.hotwords, "window": args.window}.get(name)
    return flag is not None


def met(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few voices and conditions, for development")
    parser.add_argument(
        "--models", default=f"{DEFAULT_MODEL},{BUNDLED_MODEL_NAME}", help="comma list: base, tiny.en or a directory"
    )
    parser.add_argument(
        "--sets", default="synthetic,real", help="comma list: synthetic (the voices), real (tests/data/speech)"
    )
    # Unset, each model is heard with its own measured settings (server/transcribers/whisper.py).
    parser.add_argument("--tempo", type=float, help=f"playback speed before decoding ({WhisperSettings.tempo})")
    parser.add_argument("--beam-size", type=int, help=f"({WhisperSettings.beam_size})")
    parser.add_argument("--prompt", help="initial prompt; empty for none (the picture prompt)")
    parser.add_argument("--hotwords", help="faster-whisper hotwords (none)")
    parser.add_argument(
        "--window",
        type=float,
        help="shortest encoder window in seconds (longer speech gets its length and 1 s); 0: always 30 s"
        " (base: 10, tiny.en: 30)",
    )
    parser.add_argument("--no-vad", action="store_true", help="hand Whisper the whole recording, not just its speech")
    parser.add_argument("--no-fallback", action="store_true", help="greedy only: no temperature fallback")
    parser.add_argument("--no-leak-guard", action="store_true", help="keep a transcript the prompt may have filled in")
    parser.add_argument("--worst", type=int, default=12, help="how many misheard clips to list per model")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "voxprint-stt-bench")
    args = parser.parse_args()
    for tool in ("espeak-ng", "flite", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install espeak-ng flite sox")

    chosen = {
        "tempo": args.tempo,
        "beam_size": args.beam_size,
        "initial_prompt": None if args.prompt is None else args.prompt or None,
        "hotwords": None if args.hotwords is None else args.hotwords or None,
        "temperatures": (0.0,) if args.no_fallback else None,
        "window": None if args.window is None else args.window or None,
        "leak_guard": False if args.no_leak_guard else None,
    }
    # Flags given (a prompt or window of "" or 0 means none) replace the model's own settings.
    given = {name: value for name, value in chosen.items() if value is not None or _flag_given(name, args)}
    sets = args.sets.split(",")
    voices = installed_voices()
    conditions: tuple[Condition, ...] = PANEL_CONDITIONS
    if args.quick:
        voices = [voice for voice in voices if is_panel_voice(voice)]
        conditions = (PANEL_CONDITIONS[0], PANEL_CONDITIONS[-1])
    clips = plan(voices, conditions) if "synthetic" in sets else []
    args.cache.mkdir(parents=True, exist_ok=True)
    said = recordings(clips, args.cache, real="real" in sets)
    print(f"{len(voices)} voices, {len(said)} clips per model; VAD trim: {not args.no_vad}")

    results: list[Result] = []
    for model in args.models.split(","):
        settings = replace(measured_settings(model), **given)
        print(f"{model}: {settings}")
        transcriber = SpeechGate(
            WhisperTranscriber(model, settings), max_seconds=Settings().max_audio_seconds, trim=not args.no_vad
        )
        results += measure(transcriber, model, said)
    print()
    report(results, args.worst)
    verdicts(results)


if __name__ == "__main__":
    main()
