"""The offline pictogram illustrator: the card it plans for a transcript, and the PNG it draws."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from PIL import Image

from voxprint.server.config import Settings
from voxprint.server.illustrators import IllustrationError, create_illustrator
from voxprint.server.illustrators.pictogram import PictogramIllustrator, ScenePlan
from voxprint.server.illustrators.pictogram.emoji_index import glyph_named
from voxprint.server.illustrators.pictogram.illustrator import CANVAS_WIDTH, CAPTION_GAP, CAPTION_SIZES, MARGIN
from voxprint.server.illustrators.pictogram.layout import ELLIPSIS, Box
from voxprint.server.images import Picture

INK, PAPER = 0, 255


@pytest.fixture(scope="module")
def illustrator() -> PictogramIllustrator:
    return PictogramIllustrator()


def decode(picture: Picture) -> Image.Image:
    """The picture as stored: its PNG, decoded afresh."""
    image = Image.open(io.BytesIO(picture.png))
    assert image.format == "PNG"
    return image.convert("L")


def has_ink(image: Image.Image, box: Box) -> bool:
    return image.crop((box.left, box.top, box.right, box.bottom)).getextrema()[0] == INK


def cells_of(plan: ScenePlan, name: str) -> list[Box]:
    return [placed.cell for placed in plan.glyphs if placed.glyph == glyph_named(name)]


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
