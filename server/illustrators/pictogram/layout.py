"""Where things go on a pictogram card: glyph cells arranged by role, and a caption fitted to its box.

Pure geometry and typography, no drawing, so a layout can be checked without looking at pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

ELLIPSIS = "…"
HYPHEN = "-"


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def inset(self, margin: int) -> Box:
        return Box(self.left + margin, self.top + margin, self.width - 2 * margin, self.height - 2 * margin)


def pack_rows(groups: Sequence[int], columns: int) -> list[int]:
    """How many cells each row holds when groups of copies fill rows of ``columns`` cells.

    A group that does not fit in what is left of the current row starts a new one, so copies
    of one thing stay side by side and can be counted at a glance.
    """
    rows: list[int] = []
    free = 0
    for size in groups:
        if size <= free:
            rows[-1] += size
            free -= size
            continue
        full, rest = divmod(size, columns)
        rows += [columns] * full + ([rest] if rest else [])
        free = columns - rest if rest else 0
    return rows


def _place_rows(groups: Sequence[int], columns: int, area: Box, side: int, gap: int) -> list[Box]:
    """Cells of ``side`` for groups packed into rows of ``columns``, each row centred in ``area``,
    the block centred vertically."""
    rows = pack_rows(groups, columns)
    block_height = len(rows) * side + (len(rows) - 1) * gap
    top = area.top + (area.height - block_height) // 2
    cells = []
    for row, in_row in enumerate(rows):
        row_width = in_row * side + (in_row - 1) * gap
        left = area.left + (area.width - row_width) // 2
        for column in range(in_row):
            cells.append(Box(left + column * (side + gap), top + row * (side + gap), side, side))
    return cells


def grid_cells(groups: Sequence[int], area: Box, gap: int) -> list[Box]:
    """Equal square cells for groups of copies, as big as ``area`` allows, each row centred.

    Cells come in group order, left to right and top to bottom; the number of columns is the one
    that gives the biggest cells.
    """
    count = sum(groups)
    if count <= 0:
        return []

    def side_for(columns: int) -> int:
        rows = len(pack_rows(groups, columns))
        return min((area.width - gap * (columns - 1)) // columns, (area.height - gap * (rows - 1)) // rows)

    # max() keeps the first of equal sides: the fewest columns, i.e. the tallest, narrowest grid.
    columns = max(range(1, count + 1), key=side_for)
    return _place_rows(groups, columns, area, side_for(columns), gap)


@dataclass(frozen=True)
class Slot:
    """One role's square on the stage, and how many copies of its glyph it holds."""

    copies: int
    weight: int


def stage_cells(
    slots: Sequence[Slot], rest: Sequence[int], rest_weight: int, width: int, gap: int, top: int = 0
) -> list[list[Box]]:
    """Cells for a scene read left to right: ``slots`` side by side in one row across ``width``,
    each a square as wide as its weight's share (the subject biggest, the action smallest), then
    the ``rest`` (groups of copies) in rows of squares as big as a slot of ``rest_weight``.

    Returns one list of cells per slot, then one per group of the rest, in that order; a slot's
    copies tile its square. Every cell lies within ``width`` and below ``top``.
    """
    unit = (width - gap * (len(slots) - 1)) / sum(slot.weight for slot in slots)
    sides = [int(unit * slot.weight) for slot in slots]
    row_height = max(sides)
    placed: list[list[Box]] = []
    left = (width - sum(sides) - gap * (len(slots) - 1)) // 2
    for slot, side in zip(slots, sides, strict=True):
        square = Box(left, top + (row_height - side) // 2, side, side)
        placed.append(grid_cells([slot.copies], square, gap // 2) if slot.copies > 1 else [square])
        left += side + gap
    if rest:
        side = min(int(unit * rest_weight), width)
        columns = max(1, (width + gap) // (side + gap))
        rows = len(pack_rows(rest, columns))
        area = Box(0, top + row_height + gap, width, rows * side + (rows - 1) * gap)
        cells = iter(_place_rows(rest, columns, area, side, gap))
        placed += [[next(cells) for _ in range(copies)] for copies in rest]
    return placed


@dataclass(frozen=True)
class TextBlock:
    """Lines of text set in one font size, each line ``line_height`` pixels apart."""

    lines: tuple[str, ...]
    font_size: int
    line_height: int

    @property
    def height(self) -> int:
        return len(self.lines) * self.line_height


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent


def _hyphenated(word: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """A word too wide for a line, broken into lines that each end in a hyphen but the last."""
    pieces = []
    while font.getlength(word) > width and len(word) > 1:
        cut = len(word) - 1
        while cut > 1 and font.getlength(word[:cut] + HYPHEN) > width:
            cut -= 1
        pieces.append(word[:cut] + HYPHEN)
        word = word[cut:]
    return [*pieces, word]


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels at word boundaries, giving up after ``max_lines`` + 1 lines.

    Stopping early keeps fitting a long transcript as cheap as fitting the part that shows. Only a
    word wider than a whole line is hyphenated.
    """
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        *broken, line = _hyphenated(word, font, width)
        lines += broken
        if len(lines) > max_lines:
            return lines
    if line:
        lines.append(line)
    return lines


def _shorten_to(line: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """``line`` with an ellipsis added, shortened until it fits."""
    words = line.split()
    while words and font.getlength(" ".join(words) + ELLIPSIS) > width:
        words.pop()
    return " ".join(words) + ELLIPSIS if words else ELLIPSIS


def fit_text(
    text: str, font_path: Path, width: int, height: int, sizes: range, max_lines: int | None = None
) -> TextBlock:
    """``text`` in the largest of ``sizes`` (largest first) that fits ``width`` × ``height``,
    in at most ``max_lines`` lines (by default, as many as fit).

    If even the last size is too big, the text is cut after the lines that fit and ends in an
    ellipsis, so a long transcript never overflows its box.
    """
    if not sizes:
        raise ValueError("fit_text needs at least one font size")
    for size in sizes:
        font = ImageFont.truetype(str(font_path), size)
        line_height = _line_height(font)
        room = max(1, height // line_height)
        if max_lines is not None:
            room = min(room, max_lines)
        lines = wrap(text, font, width, room)
        if len(lines) <= room:
            return TextBlock(tuple(lines), size, line_height)
    lines = lines[:room]
    lines[-1] = _shorten_to(lines[-1], font, width)
    return TextBlock(tuple(lines), size, line_height)
