"""The offline image backend: the things a transcript names, drawn as Symbola line-art pictograms.

"two penguins on the beach" becomes two penguins and a beach umbrella in a centred grid, with the
transcript as a caption beneath; a sentence that names nothing drawable ("the weather is nice
today") becomes a typographic card with the transcript set large. Everything is local (the
``emoji`` package's names, two Debian fonts, Pillow) and the same transcript always gives the same
PNG bytes. Which words draw what is decided in :mod:`server.illustrators._emoji_index`; at most
:data:`~server.illustrators._emoji_index.MAX_COPIES` copies of one pictogram and
:data:`~server.illustrators._emoji_index.MAX_GLYPHS` glyphs in all are drawn.

The card is portrait, :data:`CANVAS_SIZE` pixels (twice the 384-dot printer width), white with
pure black ink: glyphs and text are thresholded after anti-aliasing so the printer's dithering
finds no grey to turn into speckle.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from server.illustrators import IllustrationError
from server.illustrators._emoji_index import Pictogram, find_pictograms
from server.illustrators._pictogram_fonts import DEJAVU_SANS, SYMBOLA, mapped_code_points
from server.illustrators._pictogram_layout import Box, TextBlock, fit_text, grid_cells

CANVAS_SIZE = (768, 1024)
MARGIN = 40
GLYPH_GAP = 28
"""Space between glyph cells."""
GLYPH_FILL = 0.9
"""Share of its cell a glyph's longer side spans."""
CAPTION_GAP = 40
"""Space between the pictograms and the caption, with a short rule in the middle of it."""
CAPTION_SIZES = range(60, 27, -2)
CAPTION_MAX_LINES = 4
CARD_SIZES = range(120, 27, -4)
CARD_FRAME_WIDTH = 6
CARD_PADDING = 48
"""Space between the typographic card's frame and its text."""
_MEASURING_SIZE = 1000
"""Glyphs are measured at this size to work out the size that fills their cell."""
_INK = 0
_PAPER = 255
_TO_BLACK_AND_WHITE = [_INK] * 128 + [_PAPER] * 128
# Symbola's finest hairlines would print a single dot wide; one pixel of extra weight keeps them.
_GLYPH_THICKENING = ImageFilter.MinFilter(3)


@dataclass(frozen=True)
class PlacedGlyph:
    glyph: str
    cell: Box


@dataclass(frozen=True)
class ScenePlan:
    """Everything on one card: glyphs in their cells and the caption in its box."""

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
        symbola_font: str | os.PathLike[str] | None = None,
        caption_font: str | os.PathLike[str] | None = None,
    ) -> None:
        """Fonts default to ``VOXPRINT_SYMBOLA_FONT`` / ``VOXPRINT_CAPTION_FONT``, else the Debian
        packages' files. They are looked up when drawing, so a missing font fails the job with a
        message saying what to install instead of stopping the server from starting."""
        self._symbola_override = symbola_font
        self._caption_override = caption_font

    def plan(self, transcript: str) -> ScenePlan:
        """Lay out the card for ``transcript`` without drawing it."""
        text = _caption_text(transcript)
        return _plan(text, *self._fonts())

    def illustrate(self, transcript: str) -> bytes:
        text = _caption_text(transcript)
        symbola, caption_font = self._fonts()
        image = _render(_plan(text, symbola, caption_font), symbola, caption_font)
        encoded = io.BytesIO()
        image.save(encoded, format="PNG")
        return encoded.getvalue()

    def _fonts(self) -> tuple[Path, Path]:
        """(pictogram font, caption font)."""
        return SYMBOLA.locate(self._symbola_override), DEJAVU_SANS.locate(self._caption_override)


def _caption_text(transcript: str) -> str:
    """The transcript on one line with single spaces; an empty one is an error."""
    text = " ".join(transcript.split())
    if not text:
        raise IllustrationError("the transcript is empty, so there is nothing to draw")
    return text


def _plan(text: str, symbola: Path, caption_font: Path) -> ScenePlan:
    drawable = mapped_code_points(symbola)
    pictograms = find_pictograms(text, can_draw=lambda glyph: ord(glyph) in drawable)
    if not pictograms:
        return _typographic_card(text, caption_font)
    return _scene(text, pictograms, caption_font)


def _scene(text: str, pictograms: list[Pictogram], caption_font: Path) -> ScenePlan:
    width, height = CANVAS_SIZE
    caption = fit_text(
        text,
        caption_font,
        width=width - 2 * MARGIN,
        height=height // 4,
        sizes=CAPTION_SIZES,
        max_lines=CAPTION_MAX_LINES,
    )
    caption_box = Box(MARGIN, height - MARGIN - caption.height, width - 2 * MARGIN, caption.height)
    scene = Box(MARGIN, MARGIN, width - 2 * MARGIN, caption_box.top - CAPTION_GAP - MARGIN)
    glyphs = [p.glyph for p in pictograms for _ in range(p.count)]
    cells = grid_cells([p.count for p in pictograms], scene, GLYPH_GAP)
    return ScenePlan(
        glyphs=tuple(PlacedGlyph(glyph, cell) for glyph, cell in zip(glyphs, cells, strict=True)),
        caption=caption,
        caption_box=caption_box,
    )


def _typographic_card(text: str, caption_font: Path) -> ScenePlan:
    width, height = CANVAS_SIZE
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
        glyphs=(),
        caption=caption,
        caption_box=Box(text_area.left, top, text_area.width, caption.height),
    )


def _glyph_font(glyph: str, symbola: Path, side: int) -> ImageFont.FreeTypeFont:
    """Symbola at the size whose drawing of ``glyph`` spans ``side`` pixels on its longer side."""
    left, top, right, bottom = ImageFont.truetype(str(symbola), _MEASURING_SIZE).getbbox(glyph)
    size = max(1, math.floor(_MEASURING_SIZE * side / max(right - left, bottom - top, 1)))
    font = ImageFont.truetype(str(symbola), size)
    # Hinting makes sizes scale not quite linearly; step down until the glyph really fits.
    while size > 1:
        left, top, right, bottom = font.getbbox(glyph)
        if max(right - left, bottom - top) <= side:
            break
        size -= 1
        font = ImageFont.truetype(str(symbola), size)
    return font


def _draw_glyphs(plan: ScenePlan, symbola: Path) -> Image.Image:
    layer = Image.new("L", CANVAS_SIZE, _PAPER)
    draw = ImageDraw.Draw(layer)
    fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
    for placed in plan.glyphs:
        cell = placed.cell
        key = (placed.glyph, cell.width)
        if key not in fonts:
            fonts[key] = _glyph_font(placed.glyph, symbola, round(cell.width * GLYPH_FILL))
        font = fonts[key]
        left, top, right, bottom = font.getbbox(placed.glyph)
        origin = (
            cell.left + (cell.width - (right - left)) // 2 - left,
            cell.top + (cell.height - (bottom - top)) // 2 - top,
        )
        draw.text(origin, placed.glyph, font=font, fill=_INK)
    return layer.point(_TO_BLACK_AND_WHITE).filter(_GLYPH_THICKENING)


def _render(plan: ScenePlan, symbola: Path, caption_font: Path) -> Image.Image:
    image = _draw_glyphs(plan, symbola) if plan.glyphs else Image.new("L", CANVAS_SIZE, _PAPER)
    draw = ImageDraw.Draw(image)
    width, height = CANVAS_SIZE
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
