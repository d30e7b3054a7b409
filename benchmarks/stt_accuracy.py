"""Speech-to-text accuracy: word error rate and speed of the offline Whisper transcriber.

    nice -n 10 python benchmarks/stt_accuracy.py [--quick] [--models tiny.en,base] [--prompt TEXT] ...

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
import hashlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from server.transcribers.whisper import (  # noqa: E402
    BUNDLED_MODEL_NAME,
    PICTURE_PROMPT,
    WhisperSettings,
    WhisperTranscriber,
)

SENTENCES = (Path(__file__).with_name("stt_sentences.txt")).read_text().splitlines()
ESPEAK_ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
# awb_time is a limited-domain voice: it can only say the time of day.
FLITE_LIMITED_DOMAIN = {"awb_time"}
PANEL_VARIANTS = ("m3", "f2", "klatt", "croak", "whisper")
NORMAL_WPM = 175


# -- word error rate ---------------------------------------------------------------------------

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_ONES += " seventeen eighteen nineteen"
NUMBER_WORDS = dict(enumerate(_ONES.split()))


def normalise(text: str) -> list[str]:
    """Words compared for WER: lower case, no punctuation, hyphens split, small numbers spelled out."""
    text = re.sub(r"\d+", lambda match: NUMBER_WORDS.get(int(match.group()), match.group()), text.lower())
    return re.sub(r"[^a-z0-9' ]+", " ", text.replace("-", " ")).replace("'", "").split()


PROMPT_WORDS = set(normalise(PICTURE_PROMPT)) - {"a", "an", "with"}


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis`` (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


# -- recordings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak-ng" or "flite"
    name: str

    @property
    def family(self) -> str:
        if self.engine == "flite":
            return "flite voices"
        return "espeak-ng variants" if "+" in self.name else "espeak-ng accents"

    def command(self, text: str, words_per_minute: int, destination: Path) -> list[str]:
        if self.engine == "espeak-ng":
            return ["espeak-ng", "-v", self.name, "-s", str(words_per_minute), "-w", str(destination), text]
        stretch = NORMAL_WPM / words_per_minute
        return [
            "flite",
            "-voice",
            self.name,
            "--setf",
            f"duration_stretch={stretch:.3f}",
            "-t",
            text,
            "-o",
            str(destination),
        ]


@dataclass(frozen=True)
class Condition:
    name: str
    words_per_minute: int = NORMAL_WPM
    sample_rate: int = 16_000
    snr_db: float | None = None


CLEAN = Condition("clean 16 kHz")
PANEL_CONDITIONS = (
    Condition("8 kHz", sample_rate=8_000),
    Condition("44.1 kHz", sample_rate=44_100),
    Condition("slow 130 wpm", words_per_minute=130),
    Condition("fast 230 wpm", words_per_minute=230),
    Condition("pink noise 20 dB SNR", snr_db=20),
    Condition("pink noise 10 dB SNR", snr_db=10),
)


@dataclass(frozen=True)
class Clip:
    voice: Voice
    sentence: str
    condition: Condition


def installed_voices() -> list[Voice]:
    variants = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    variant_files = [line.split()[-1].removeprefix("!v/") for line in variants.splitlines()[1:]]
    flite = subprocess.run(["flite", "-lv"], capture_output=True, text=True, check=True).stdout
    flite_names = flite.split(":", 1)[1].split()
    return (
        [Voice("espeak-ng", accent) for accent in ESPEAK_ACCENTS]
        + [Voice("espeak-ng", f"en-us+{variant}") for variant in variant_files]
        + [Voice("flite", name) for name in flite_names if name not in FLITE_LIMITED_DOMAIN]
    )


def is_panel_voice(voice: Voice) -> bool:
    return voice.engine == "flite" or "+" not in voice.name or voice.name.split("+")[1] in PANEL_VARIANTS


def plan(voices: Sequence[Voice], conditions: Iterable[Condition]) -> list[Clip]:
    """Voice i says sentence i (mod the list) clean; panel voices say the same sentence in every condition."""
    said = {voice: SENTENCES[i % len(SENTENCES)] for i, voice in enumerate(voices)}
    clips = [Clip(voice, sentence, CLEAN) for voice, sentence in said.items()]
    for condition in conditions:
        clips += [Clip(voice, sentence, condition) for voice, sentence in said.items() if is_panel_voice(voice)]
    return clips


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as reader:
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").astype(np.float64)
        return samples / 32768, reader.getframerate()


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def pink_noise(length: int, seed: int) -> np.ndarray:
    """Noise whose power falls 3 dB per octave, like a fan, traffic or a room full of talk."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(length))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0
    return np.fft.irfft(spectrum, length)


def add_noise(samples: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    # SNR against the speech's power while speaking, not diluted by the silence around it.
    speech = samples[np.abs(samples) > 0.02 * np.abs(samples).max()]
    noise = pink_noise(len(samples), seed)
    noise *= np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (snr_db / 10))
    return samples + noise


def record(clip: Clip, cache: Path) -> Path:
    """The clip's WAV, made on first use: synthesized, resampled by sox at its best quality, noised."""
    key = hashlib.sha256(repr(clip).encode()).hexdigest()[:20]
    path = cache / f"{key}.wav"
    if path.exists():
        return path
    native, resampled = cache / f"{key}.native.wav", cache / f"{key}.rate.wav"
    subprocess.run(clip.voice.command(clip.sentence, clip.condition.words_per_minute, native), check=True)
    subprocess.run(
        # -D: no dither, whose random noise would make every synthesis of a clip slightly different;
        # -V1: quiet about the odd sample clipped by the filter.
        ["sox", "-V1", "-D", str(native), "-b", "16", str(resampled), "rate", "-v", str(clip.condition.sample_rate)],
        check=True,
    )
    samples, rate = read_wav(resampled)
    if clip.condition.snr_db is not None:
        samples = add_noise(samples, clip.condition.snr_db, seed=int(key[:8], 16))
    write_wav(path, samples, rate)
    native.unlink()
    resampled.unlink()
    return path


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
        samples, rate = read_wav(path)
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
