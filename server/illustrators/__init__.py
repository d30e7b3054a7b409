"""Image backends behind one small interface.

A backend is any object with a ``name`` (recorded on every job it handles) and a blocking
``illustrate(transcript) -> bytes`` returning an encoded image (PNG preferred; any format Pillow
decodes is accepted and stored as PNG). It raises :class:`IllustrationError` with a message fit
for the job's ``error`` field (plain words, never a secret).
"""

from __future__ import annotations

import os
from typing import Protocol

from server.config import Settings


class IllustrationError(Exception):
    """Image generation failed; ``str(error)`` is shown to users."""


class Illustrator(Protocol):
    name: str

    def illustrate(self, transcript: str) -> bytes:
        """Return an encoded image that pictures ``transcript``."""
        ...


def google_api_key() -> str | None:
    return os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")


def create_illustrator(settings: Settings) -> Illustrator:
    choice = settings.illustrator
    if choice == "auto":
        choice = "gemini" if google_api_key() else "pictogram"
    if choice == "pictogram":
        from server.illustrators.pictogram import PictogramIllustrator

        return PictogramIllustrator()
    if choice == "gemini":
        from server.illustrators.gemini import GeminiIllustrator

        return GeminiIllustrator.from_settings(settings)
    raise ValueError(f"unknown illustrator {settings.illustrator!r}; use auto, pictogram or gemini")
