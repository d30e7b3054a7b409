"""A microphone for wyoming-satellite's --mic-command: 16 kHz 16-bit mono PCM on stdout, in real
time — silence until the file SPEAK exists, then the WAV once, then silence until stdout closes.

    python mic_pacer.py PHRASE.wav SPEAK
"""

import sys
import time
import wave
from pathlib import Path

RATE = 16_000
CHUNK_FRAMES = 1024  # wyoming-satellite's default --mic-command-samples-per-chunk


def main() -> None:
    wav_path, speak = sys.argv[1], Path(sys.argv[2])
    with wave.open(wav_path, "rb") as recording:
        assert (recording.getframerate(), recording.getsampwidth(), recording.getnchannels()) == (RATE, 2, 1)
        phrase = recording.readframes(recording.getnframes())
    silence = bytes(2 * CHUNK_FRAMES)
    out = sys.stdout.buffer
    started, sent = time.monotonic(), 0
    spoken = False
    try:
        while True:
            if not spoken and speak.exists():
                spoken = True
                for start in range(0, len(phrase), len(silence)):
                    sent = pace(out, phrase[start : start + len(silence)].ljust(len(silence), b"\0"), started, sent)
            sent = pace(out, silence, started, sent)
    except BrokenPipeError:
        pass


def pace(out, chunk: bytes, started: float, sent: int) -> int:
    """Write `chunk` no sooner than real time allows; the frames sent so far."""
    sent += len(chunk) // 2
    ahead = started + sent / RATE - time.monotonic()
    if ahead > 0:
        time.sleep(ahead)
    out.write(chunk)
    out.flush()
    return sent


if __name__ == "__main__":
    main()
