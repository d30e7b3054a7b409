"""Spoken test recordings: flite's plain voice for the suite, the many synthetic voices (every
espeak-ng accent and variant, every flite voice) the speech benchmark and the Whisper tests hear in
several conditions (rates, tempos, noise), made on the fly, and real people's recordings
(``tests/data/speech``). Also the words compared: for WER, and the picture words a transcript must
keep for the illustrator to draw the right thing.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.support import REPOSITORY
from tests.support.audio import wav_of, wav_samples

SPOKEN_PHRASE = "two penguins on the beach"


def speak(text: str, destination: Path) -> Path:
    """Synthesize ``text`` with Debian's flite (voice rms) into a 16 kHz mono 16-bit WAV."""
    if shutil.which("flite") is None:
        pytest.fail("flite is not installed: run `apt-get install flite` (the test scripts do)")
    subprocess.run(["flite", "-voice", "rms", "-t", text, "-o", str(destination)], check=True)
    return destination


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short recording of someone saying SPOKEN_PHRASE."""
    return speak(SPOKEN_PHRASE, tmp_path_factory.mktemp("speech") / "penguins.wav")


# -- synthetic voices ----------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Voice:
    engine: str  # "espeak-ng", "flite", or "human" for a real recording's speaker
    name: str

    @property
    def family(self) -> str:
        if self.engine == "human":
            return "real people"
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
# What a real recording (tests/data/speech) was said in: the room and microphone it was made with.
REAL = Condition("as recorded")
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
    samples, rate = wav_samples(resampled)
    if clip.condition.snr_db is not None:
        samples = add_noise(samples, clip.condition.snr_db, seed=int(key[:8], 16))
    path.write_bytes(wav_of(samples, rate))
    native.unlink()
    resampled.unlink()
    return path


# -- words as compared ---------------------------------------------------------------------------

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
_ONES += " seventeen eighteen nineteen"
NUMBER_WORDS = dict(enumerate(_ONES.split()))


def normalise(text: str) -> list[str]:
    """Words compared for WER: lower case, no punctuation, hyphens split, small numbers spelled out."""
    text = re.sub(r"\d+", lambda match: NUMBER_WORDS.get(int(match.group()), match.group()), text.lower())
    return re.sub(r"[^a-z0-9' ]+", " ", text.replace("-", " ")).replace("'", "").split()


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions + deletions + insertions turning ``reference`` into ``hypothesis`` (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def picture_words(reference: str) -> list[list[str]]:
    """The nouns of ``reference`` the pictogram illustrator reads (the things it draws), each as
    the words compared ("ice cream" is two)."""
    # Imported here: the illustrator takes half a second to import, and every test run loads this module.
    from voxprint.server.illustrators.pictogram.reading import read

    return [normalise(noun) for noun in read(reference).nouns]


def recalled(noun: Sequence[str], heard: Sequence[str]) -> bool:
    """Whether the words of ``noun`` appear, in order and together, among the words ``heard``; the
    last one in any form that draws the same picture ("rainbows" heard as "rainbow")."""
    from voxprint.server.illustrators.pictogram.reading import singular_forms

    *leading, last = noun
    forms = set(singular_forms(last))
    for start in range(len(heard) - len(leading)):
        if list(heard[start : start + len(leading)]) == leading and forms & set(
            singular_forms(heard[start + len(leading)])
        ):
            return True
    return False


# -- real recordings -----------------------------------------------------------------------------

REAL_RECORDINGS = REPOSITORY / "tests" / "data" / "speech"


@dataclass(frozen=True)
class RealRecording:
    path: Path
    speaker: str
    sentence: str
    source: str


def real_recordings() -> list[RealRecording]:
    """Every recording listed in ``tests/data/speech/SOURCES.md``'s table of files."""
    rows = (REAL_RECORDINGS / "SOURCES.md").read_text().split("## Files", 1)[1].splitlines()
    recordings = []
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`"):
            file, speaker, _length, sentence, source = cells
            recordings.append(RealRecording(REAL_RECORDINGS / file.strip("`"), speaker, sentence, source))
    return recordings
