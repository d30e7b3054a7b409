"""Where things go on a pictogram card: rows of copies, the stage of roles, and a caption fitted to its box."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import ImageFont

from voxprint.server.illustrators.pictogram.fonts import DEJAVU_SANS
from voxprint.server.illustrators.pictogram.layout import (
    ELLIPSIS,
    HYPHEN,
    Box,
    Slot,
    fit_text,
    grid_cells,
    pack_rows,
    stage_cells,
    wrap,
)
from voxprint.server.illustrators.pictogram.reading import MAX_COPIES, MAX_GLYPHS


@pytest.fixture(scope="module")
def caption_font() -> Path:
    return DEJAVU_SANS.locate()


@pytest.mark.parametrize(
    ("groups", "columns", "rows"),
    [([2, 1], 2, [2, 1]), ([1, 1, 1], 3, [3]), ([6], 4, [4, 2]), ([3, 2, 6], 3, [3, 2, 3, 3]), ([6, 1], 4, [4, 3])],
)
def test_copies_of_one_thing_share_a_row_when_they_fit(groups: list[int], columns: int, rows: list[int]) -> None:
    assert pack_rows(groups, columns) == rows


@given(
    groups=st.lists(st.integers(1, MAX_COPIES), min_size=1, max_size=MAX_GLYPHS),
    width=st.integers(200, 800),
    height=st.integers(200, 1000),
)
def test_grid_cells_are_equal_squares_inside_the_area_without_overlap(
    groups: list[int], width: int, height: int
) -> None:
    area = Box(10, 20, width, height)
    cells = grid_cells(groups, area, gap=8)
    assert len(cells) == sum(groups)
    assert len({(cell.width, cell.height) for cell in cells}) == 1
    assert cells[0].width == cells[0].height > 0
    for cell in cells:
        assert area.left <= cell.left and cell.right <= area.right
        assert area.top <= cell.top and cell.bottom <= area.bottom
    corners = {(cell.left, cell.top) for cell in cells}
    assert len(corners) == len(cells)


def test_a_lone_glyph_fills_the_narrower_side_of_its_area() -> None:
    (cell,) = grid_cells([1], Box(0, 0, 600, 800), gap=10)
    assert (cell.width, cell.left, cell.top) == (600, 0, 100)


def test_wrapping_breaks_lines_only_between_words(caption_font: Path) -> None:
    font = ImageFont.truetype(str(caption_font), 40)
    text = "a dragon eating ice cream under the rainbow"
    lines = wrap(text, font, 300, max_lines=10)
    assert len(lines) > 1
    assert [word for line in lines for word in line.split()] == text.split()
    assert all(font.getlength(line) <= 300 for line in lines)


def test_only_a_word_wider_than_a_line_is_hyphenated(caption_font: Path) -> None:
    font = ImageFont.truetype(str(caption_font), 40)
    lines = wrap("a supercalifragilisticexpialidocious cat", font, 200, max_lines=10)
    first, *broken, last = lines
    assert first == "a", "a short word is not pulled into the long one"
    assert len(broken) > 1 and all(line.endswith(HYPHEN) for line in broken)
    assert "".join(line.removesuffix(HYPHEN) for line in broken) + last == "supercalifragilisticexpialidocious cat"
    assert all(font.getlength(line) <= 200 for line in lines)


def test_the_stage_puts_subject_action_and_object_in_one_row_sized_by_weight() -> None:
    subject, action, thing = stage_cells([Slot(1, 3), Slot(1, 1), Slot(1, 2)], [], rest_weight=2, width=700, gap=20)
    assert subject[0].width > thing[0].width > action[0].width
    assert subject[0].right < action[0].left and action[0].right < thing[0].left
    assert subject[0].left >= 0 and thing[0].right <= 700
    assert thing[0].right - subject[0].left >= 690, "the row spans the width"


@given(
    copies=st.lists(st.integers(1, MAX_COPIES), min_size=1, max_size=3),
    rest=st.lists(st.integers(1, MAX_COPIES), max_size=MAX_GLYPHS - 3),
    width=st.integers(300, 800),
)
def test_stage_cells_stay_inside_the_width_below_the_top_and_never_overlap(
    copies: list[int], rest: list[int], width: int
) -> None:
    slots = [Slot(count, weight) for count, weight in zip(copies, (3, 1, 2), strict=False)]
    groups = stage_cells(slots, rest, rest_weight=2, width=width, gap=16, top=30)
    assert [len(cells) for cells in groups] == [*copies, *rest]
    cells = [cell for group in groups for cell in group]
    for cell in cells:
        assert 0 <= cell.left and cell.right <= width and cell.top >= 30 and cell.width > 0
    for number, cell in enumerate(cells):
        for other in cells[number + 1 :]:
            assert (
                cell.right <= other.left
                or other.right <= cell.left
                or cell.bottom <= other.top
                or other.bottom <= cell.top
            )


def test_short_text_gets_the_largest_size(caption_font: Path) -> None:
    block = fit_text("hi", caption_font, width=600, height=200, sizes=range(60, 20, -2), max_lines=3)
    assert block.font_size == 60 and block.lines == ("hi",)


def test_longer_text_is_set_smaller_to_fit(caption_font: Path) -> None:
    short = fit_text("a cat", caption_font, 600, 200, range(60, 20, -2), max_lines=3)
    long = fit_text("a cat " * 12, caption_font, 600, 200, range(60, 20, -2), max_lines=3)
    assert long.font_size < short.font_size
    assert long.height <= 200 and len(long.lines) <= 3


def test_text_too_long_for_the_smallest_size_ends_in_an_ellipsis(caption_font: Path) -> None:
    block = fit_text("word " * 500, caption_font, 600, 200, range(60, 20, -2), max_lines=3)
    assert block.font_size == 22
    assert block.lines[-1].endswith(ELLIPSIS)
    assert block.height <= 200 and len(block.lines) <= 3
