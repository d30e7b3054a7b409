"""Image backends behind one small interface.

A backend is any object with a ``name`` (recorded on every job it handles) and a blocking
``illustrate(transcript)`` returning an encoded image (PNG preferred; any format Pillow decodes is
accepted and stored as PNG), or a :class:`~server.images.Picture` it has already checked, so the
picture is not decoded again. It raises :class:`IllustrationError` with a message fit for the
job's ``error`` field (plain words, never a secret).
"""

from __future__ import annotations

import os
from typing import Protocol

import click

from voxprint.server.backends import Backend, Option, Registry
from voxprint.server.config import Settings
from voxprint.server.images import Picture


class IllustrationError(Exception):
    """Image generation failed; ``str(error)`` is shown to users."""


class Illustrator(Protocol):
    name: str

    def illustrate(self, transcript: str) -> bytes | Picture:
        """Return an image that pictures ``transcript``."""
        ...


def google_api_key() -> str | None:
    return os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY")


ILLUSTRATORS: Registry[Illustrator] = Registry("illustrator", title="Image backend", fallback="pictogram")


def create_illustrator(settings: Settings) -> Illustrator:
    return ILLUSTRATORS.create(settings)


# The built-in backends. Each factory imports its module only when chosen, so neither --help nor
# the other backend pays for fonts, art or an SDK it does not use.


def _pictogram(settings: Settings) -> Illustrator:
    from voxprint.server.illustrators.pictogram import PictogramIllustrator

    return PictogramIllustrator()


def _gemini(settings: Settings) -> Illustrator:
    from voxprint.server.illustrators.gemini import GeminiIllustrator

    return GeminiIllustrator.from_settings(settings)


ILLUSTRATORS.register(Backend("pictogram", "offline pictograms", _pictogram))
ILLUSTRATORS.register(
    Backend(
        "gemini",
        "Google's Gemini (needs GOOGLE_API_KEY or GEMINI_API_KEY)",
        _gemini,
        options=(
            Option("gemini_base_url", "Gemini API base URL; default: Google's."),
            Option("gemini_model", "Gemini image model."),
            Option("gemini_aspect_ratio", "Aspect ratio asked of Gemini (portrait suits a receipt)."),
            Option("gemini_timeout", "Seconds allowed for one Gemini request.", click.FloatRange(min=1)),
            Option("image_prompt", "Prompt template for cloud images, with one {transcript} field."),
        ),
        preferred=lambda: bool(google_api_key()),
    )
)
