"""Stand-in speech and image backends for tests of the service itself (not of any vendor SDK).

They implement the same small interfaces as the real backends, so the pipeline cannot tell.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from PIL import Image, ImageDraw

from voxprint.server.illustrators import IllustrationError
from voxprint.server.transcribers import TranscriptionError


def sample_png(width: int = 640, height: int = 480) -> bytes:
    """A picture with shapes and a gradient, so dithering has something to do."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), outline="black", width=8)
    draw.rectangle((10, 10, width // 3, height // 5), fill="white", outline="black", width=4)
    encoded = io.BytesIO()
    image.save(encoded, format="PNG")
    return encoded.getvalue()


class ScriptedTranscriber:
    """Answers ``text`` (or raises ``TranscriptionError(fail)``), optionally waiting for ``gate``."""

    name = "scripted-stt"

    def __init__(
        self, text: str = "a cat and a dog", *, fail: str | None = None, gate: threading.Event | None = None
    ) -> None:
        self.text, self.fail, self.gate = text, fail, gate
        self.calls: list[Path] = []
        # What the speech gate handed over with each call: the decoded speech, or None.
        self.samples: list[object] = []

    def transcribe(self, audio_path: Path, samples: object = None) -> str:
        self.calls.append(audio_path)
        self.samples.append(samples)
        if self.gate is not None and not self.gate.wait(60):
            raise TranscriptionError("test gate never opened")
        if self.fail is not None:
            raise TranscriptionError(self.fail)
        return self.text


class ScriptedIllustrator:
    """Answers ``image`` (default: sample_png()) or raises ``IllustrationError(fail)``."""

    name = "scripted-image"

    def __init__(self, image: bytes | None = None, *, fail: str | None = None) -> None:
        self.image = image if image is not None else sample_png()
        self.fail = fail
        self.calls: list[str] = []

    def illustrate(self, transcript: str) -> bytes:
        self.calls.append(transcript)
        if self.fail is not None:
            raise IllustrationError(self.fail)
        return self.image
