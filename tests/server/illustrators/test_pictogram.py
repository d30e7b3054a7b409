"""The offline pictogram illustrator: how the card is laid out, and the PNG it draws."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageFont

from voxprint.server.config import Settings
from voxprint.server.illustrators import IllustrationError, create_illustrator
from voxprint.server.illustrators._emoji_index import glyph_named
from voxprint.server.illustrators._pictogram_fonts import DEJAVU_SANS, FontSpec
from voxprint.server.illustrators._pictogram_layout import (
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
from voxprint.server.illustrators._reading import MAX_COPIES, MAX_GLYPHS
from voxprint.server.illustrators.pictogram import (
    CANVAS_WIDTH,
    CAPTION_GAP,
    CAPTION_SIZES,
    MARGIN,
    PictogramIllustrator,
    ScenePlan,
)
from voxprint.server.images import Picture

INK, PAPER = 0, 255


@pytest.fixture(scope="module")
def illustrator() -> PictogramIllustrator:
    return PictogramIllustrator()


@pytest.fixture(scope="module")
def caption_font() -> Path:
    return DEJAVU_SANS.locate()


def decode(picture: Picture) -> Image.Image:
    """The picture as stored: its PNG, decoded afresh."""
    image = Image.open(io.BytesIO(picture.png))
    assert image.format == "PNG"
    return image.convert("L")


def has_ink(image: Image.Image, box: Box) -> bool:
    return image.crop((box.left, box.top, box.right, box.bottom)).getextrema()[0] == INK


def cells_of(plan: ScenePlan, name: str) -> list[Box]:
    return [placed.cell for placed in plan.glyphs if placed.glyph == glyph_named(name)]


# --- Fonts ----------------------------------------------------------------------------------------


def test_a_font_nowhere_to_be_found_names_the_debian_package_to_install(tmp_path: Path) -> None:
    spec = FontSpec(
        description="Test",
        file_names=("No-Such-Font-For-Voxprint.ttf",),
        usual_path=tmp_path / "missing.ttf",
        environment_variable="VOXPRINT_TEST_FONT_UNSET",
        debian_package="fonts-test-package",
    )
    with pytest.raises(IllustrationError, match="apt-get install fonts-test-package"):
        spec.locate()


def test_an_overridden_caption_font_that_does_not_exist_fails_the_illustration(tmp_path: Path) -> None:
    missing = tmp_path / "DejaVuSans-Bold.ttf"
    with pytest.raises(IllustrationError, match="font file .* does not exist") as raised:
        PictogramIllustrator(caption_font=missing).illustrate("a penguin")
    assert str(tmp_path) not in str(raised.value)  # job errors reach clients: no server paths


# --- Layout ---------------------------------------------------------------------------------------


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


# --- The illustrator ------------------------------------------------------------------------------


def test_the_backend_is_named_pictogram_and_chosen_by_configuration() -> None:
    chosen = create_illustrator(Settings(illustrator="pictogram"))
    assert isinstance(chosen, PictogramIllustrator) and chosen.name == "pictogram"


@pytest.mark.parametrize("transcript", ["", "   ", " \n\t "])
def test_an_empty_transcript_is_an_illustration_error(illustrator: PictogramIllustrator, transcript: str) -> None:
    with pytest.raises(IllustrationError, match="empty"):
        illustrator.illustrate(transcript)


def test_the_picture_is_a_png_as_wide_as_the_canvas_and_as_tall_as_its_plan(illustrator: PictogramIllustrator) -> None:
    plan = illustrator.plan("two penguins on the beach")
    assert plan.size[0] == CANVAS_WIDTH
    assert decode(illustrator.illustrate("two penguins on the beach")).size == plan.size


@pytest.mark.parametrize("transcript", ["two penguins on the beach", "it is what it is"])
def test_the_ink_is_pure_black_on_white(illustrator: PictogramIllustrator, transcript: str) -> None:
    colours = decode(illustrator.illustrate(transcript)).histogram()
    assert {level for level, pixels in enumerate(colours) if pixels} == {INK, PAPER}
    assert colours[PAPER] > colours[INK], "mostly white paper"


def test_the_same_transcript_gives_the_same_bytes(illustrator: PictogramIllustrator) -> None:
    first = illustrator.illustrate("a cat and a dog").png
    assert illustrator.illustrate("a cat and a dog").png == first
    assert PictogramIllustrator().illustrate("a cat and a dog").png == first


def test_different_transcripts_give_different_pictures(illustrator: PictogramIllustrator) -> None:
    assert illustrator.illustrate("a cat").png != illustrator.illustrate("a dog").png


def test_the_named_things_are_planned_in_their_numbers(illustrator: PictogramIllustrator) -> None:
    plan = illustrator.plan("two penguins on the beach")
    assert Counter(placed.glyph for placed in plan.glyphs) == {
        glyph_named("penguin"): 2,
        glyph_named("beach_with_umbrella"): 1,
    }


def test_saying_more_of_a_thing_draws_more_glyphs(illustrator: PictogramIllustrator) -> None:
    counts = [len(illustrator.plan(f"{number} penguins").glyphs) for number in ("one", "two", "three")]
    assert counts == [1, 2, 3]


@pytest.mark.parametrize("transcript", ["a penguin", "three penguins", "a cat and a dog"])
def test_every_planned_glyph_is_drawn_in_its_cell_and_nowhere_else(
    illustrator: PictogramIllustrator, transcript: str
) -> None:
    plan = illustrator.plan(transcript)
    image = decode(illustrator.illustrate(transcript))
    for placed in plan.glyphs:
        assert has_ink(image, placed.cell), f"{placed.glyph} missing from {placed.cell}"
    blanked = image.copy()
    for placed in plan.glyphs:
        cell = placed.cell
        blanked.paste(PAPER, (cell.left, cell.top, cell.right, cell.bottom))
    above_the_caption_rule = Box(0, 0, CANVAS_WIDTH, plan.caption_box.top - CAPTION_GAP)
    assert not has_ink(blanked, above_the_caption_rule)


def test_the_caption_is_the_transcript_word_for_word(illustrator: PictogramIllustrator) -> None:
    plan = illustrator.plan("  two penguins\non the   beach ")
    assert " ".join(plan.caption.lines) == "two penguins on the beach"


def test_the_caption_sits_below_the_pictograms_inside_the_canvas(
    illustrator: PictogramIllustrator,
) -> None:
    plan = illustrator.plan("two penguins on the beach")
    assert max(placed.cell.bottom for placed in plan.glyphs) < plan.caption_box.top
    assert plan.caption_box.bottom <= plan.size[1] - MARGIN
    assert has_ink(decode(illustrator.illustrate("two penguins on the beach")), plan.caption_box)


def test_a_sentence_naming_nothing_becomes_a_large_typographic_card(
    illustrator: PictogramIllustrator,
) -> None:
    plan = illustrator.plan("it is what it is")
    assert plan.is_typographic_card
    assert " ".join(plan.caption.lines) == "it is what it is"
    assert plan.caption.font_size > CAPTION_SIZES.start
    assert has_ink(decode(illustrator.illustrate("it is what it is")), plan.caption_box)


def test_a_very_long_transcript_still_fits_the_canvas(illustrator: PictogramIllustrator) -> None:
    transcript = "my cat and my dog went to the beach with a penguin " * 40
    plan = illustrator.plan(transcript)
    assert plan.caption.lines[-1].endswith(ELLIPSIS)
    boxes = [plan.caption_box, *(placed.cell for placed in plan.glyphs)]
    assert all(box.top >= 0 and box.bottom <= plan.size[1] for box in boxes)
    assert decode(illustrator.illustrate(transcript)).size == plan.size


def test_the_subject_is_drawn_large_the_action_small_between_it_and_the_object(
    illustrator: PictogramIllustrator,
) -> None:
    plan = illustrator.plan("a dragon eating ice cream")
    ((dragon,), (fork,), (ice_cream,)) = (cells_of(plan, name) for name in ("dragon", "fork_and_knife", "ice_cream"))
    assert dragon.width > ice_cream.width > fork.width
    assert dragon.right < fork.left and fork.right < ice_cream.left


@pytest.mark.parametrize("transcript", ["a penguin", "a dragon eating ice cream", "a cat, a dog, a fox and a cow"])
def test_the_pictograms_fill_the_printer_width(illustrator: PictogramIllustrator, transcript: str) -> None:
    plan = illustrator.plan(transcript)
    left = min(placed.cell.left for placed in plan.glyphs)
    right = max(placed.cell.right for placed in plan.glyphs)
    assert right - left >= 0.95 * (CANVAS_WIDTH - 2 * MARGIN)


def test_further_objects_are_drawn_in_rows_beneath_the_subject(illustrator: PictogramIllustrator) -> None:
    plan = illustrator.plan("a cat, a dog, a fox and a cow")
    (cat,), (dog,), (fox,), (cow,) = (cells_of(plan, name) for name in ("cat", "dog", "fox", "cow"))
    assert dog.top < cat.bottom, "the first object is beside the subject"
    assert fox.top > cat.bottom and cow.top > cat.bottom
    assert fox.width == dog.width


@pytest.mark.parametrize(
    "transcript",
    [
        "a dragon eating ice cream",
        "six cats, six dogs and six penguins",
        "supercalifragilisticexpialidocious penguins",
        "a cat, a dog, a fox, a cow, a pig, a hen, a duck, an owl, a bee, a frog, a snail and a whale",
    ],
)
def test_nothing_is_clipped_at_the_edges(illustrator: PictogramIllustrator, transcript: str) -> None:
    image = decode(illustrator.illustrate(transcript))
    width, height = image.size
    inner = Box(0, 0, width, height).inset(MARGIN // 2)
    margins_only = image.copy()
    margins_only.paste(PAPER, (inner.left, inner.top, inner.right, inner.bottom))
    assert margins_only.getextrema()[0] == PAPER, "ink reaches the edge of the card"
