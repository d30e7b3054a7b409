"""The offline pictogram illustrator: which words draw what, how the card is laid out, the PNG."""

from __future__ import annotations

import io
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import emoji
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageFont

from server.config import Settings
from server.illustrators import IllustrationError, create_illustrator
from server.illustrators._emoji_index import (
    MAX_COPIES,
    MAX_GLYPHS,
    SYNONYMS,
    find_pictograms,
    singular_forms,
    word_index,
)
from server.illustrators._pictogram_fonts import (
    DEJAVU_SANS,
    SYMBOLA,
    FontSpec,
    mapped_code_points,
)
from server.illustrators._pictogram_layout import (
    ELLIPSIS,
    Box,
    fit_text,
    grid_cells,
    pack_rows,
    wrap,
)
from server.illustrators.pictogram import (
    CANVAS_SIZE,
    CAPTION_GAP,
    CAPTION_SIZES,
    PictogramIllustrator,
)

INK, PAPER = 0, 255


def glyph(name: str) -> str:
    """The single code point the emoji package spells ``:name:``, as the index stores it."""
    spelled = emoji.emojize(f":{name}:").replace("\ufe0f", "")
    assert len(spelled) == 1, f"{name} is not a single-code-point emoji"
    return spelled


def drawn(transcript: str) -> dict[str, int]:
    return {p.glyph: p.count for p in find_pictograms(transcript)}


@pytest.fixture(scope="module")
def illustrator() -> PictogramIllustrator:
    return PictogramIllustrator()


@pytest.fixture(scope="module")
def symbola() -> Path:
    return SYMBOLA.locate()


@pytest.fixture(scope="module")
def caption_font() -> Path:
    return DEJAVU_SANS.locate()


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("L")


def has_ink(image: Image.Image, box: Box) -> bool:
    return image.crop((box.left, box.top, box.right, box.bottom)).getextrema()[0] == INK


# --- Which words draw what ----------------------------------------------------------------------


def test_a_named_thing_draws_its_emoji() -> None:
    assert drawn("a penguin") == {glyph("penguin"): 1}


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("penguins", "penguin"),
        ("puppies", "puppy"),
        ("boxes", "box"),
        ("wolves", "wolf"),
        ("knives", "knife"),
        ("mice", "mouse"),
        ("children", "child"),
    ],
)
def test_plurals_draw_what_their_singular_draws(plural: str, singular: str) -> None:
    assert singular in singular_forms(plural)
    assert drawn(plural).keys() == drawn(singular).keys() != set()


def test_a_word_that_is_a_name_as_said_is_not_folded() -> None:
    assert drawn("glasses") == {glyph("glasses"): 1}


def test_words_ending_in_double_s_are_not_plurals() -> None:
    assert singular_forms("glass") == ["glass"]


def test_stop_words_draw_nothing() -> None:
    assert drawn("I will be on it, and so would you, up there with them") == {}


def test_words_whose_emoji_shows_another_sense_draw_nothing() -> None:
    assert drawn("it prints until it dies") == {}


def test_unknown_words_are_ignored() -> None:
    assert drawn("the quixotic penguin pontificated zealously") == {glyph("penguin"): 1}


def test_pictograms_come_in_the_order_said() -> None:
    said = [p.glyph for p in find_pictograms("a dog chased a cat past a penguin")]
    assert said == [glyph("dog"), glyph("cat"), glyph("penguin")]


def test_a_phrase_that_names_an_emoji_beats_its_words() -> None:
    assert drawn("a hot dog please") == {glyph("hot_dog"): 1}


@pytest.mark.parametrize(
    ("transcript", "count"),
    [("a penguin", 1), ("two penguins", 2), ("three penguins", 3), ("5 penguins", 5), ("a couple of penguins", 2)],
)
def test_a_number_before_a_thing_sets_how_many_are_drawn(transcript: str, count: int) -> None:
    assert drawn(transcript) == {glyph("penguin"): count}


@pytest.mark.parametrize("transcript", ["twenty penguins", "a million penguins", "999 penguins"])
def test_counts_are_capped(transcript: str) -> None:
    assert drawn(transcript) == {glyph("penguin"): MAX_COPIES}


def test_zero_of_a_thing_draws_none_of_it() -> None:
    assert drawn("zero penguins and one dog") == {glyph("dog"): 1}


def test_a_number_reaches_past_a_few_describing_words() -> None:
    assert drawn("three very big penguins") == {glyph("penguin"): 3}


@pytest.mark.parametrize(
    "transcript",
    ["we waited two hours. a penguin came", "two of my friends and all of their lovely penguin", "in 2024 the penguin"],
)
def test_a_number_does_not_count_a_thing_far_away_or_past_punctuation(transcript: str) -> None:
    assert drawn(transcript) == {glyph("penguin"): 1}


def test_a_thing_mentioned_again_is_the_same_thing() -> None:
    assert drawn("two penguins came; the penguins swam") == {glyph("penguin"): 2}


def test_a_thing_mentioned_again_with_a_larger_number_takes_that_number() -> None:
    assert drawn("a penguin came, then three penguins") == {glyph("penguin"): 3}


def test_a_full_scene_shows_every_kind_said_before_extra_copies() -> None:
    pictograms = find_pictograms("six cats, six dogs and six penguins")
    assert sum(p.count for p in pictograms) == MAX_GLYPHS
    assert [p.glyph for p in pictograms] == [glyph("cat"), glyph("dog"), glyph("penguin")]
    assert pictograms[0].count == MAX_COPIES, "what was said first gets its copies first"


def test_a_scene_holds_the_first_max_glyphs_kinds_said() -> None:
    animals = "cat dog penguin fox wolf horse cow pig sheep chicken bear lion tiger monkey".split()
    first_kinds = [find_pictograms(animal)[0].glyph for animal in animals[:MAX_GLYPHS]]
    pictograms = find_pictograms(" ".join(animals))
    assert [p.glyph for p in pictograms] == first_kinds
    assert all(p.count == 1 for p in pictograms)


def test_a_glyph_that_cannot_be_drawn_gives_way_to_the_next_candidate() -> None:
    best = find_pictograms("dog")[0].glyph
    fallback = find_pictograms("dog", can_draw=lambda candidate: candidate != best)
    assert fallback and fallback[0].glyph != best
    assert find_pictograms("dog", can_draw=lambda candidate: False) == []


@pytest.mark.parametrize(("word", "name"), sorted(SYNONYMS.items()))
def test_synonyms_draw_the_emoji_they_name(word: str, name: str) -> None:
    assert drawn(word) == {glyph(name): 1}


def test_the_index_holds_only_single_plain_pictures() -> None:
    glyphs = {candidate for candidates in word_index().values() for candidate, _ in candidates}
    assert glyphs
    for candidate in glyphs:
        assert len(candidate) == 1
        assert unicodedata.category(candidate) != "Sk", "skin-tone modifier"
        assert not 0x1F1E6 <= ord(candidate) <= 0x1F1FF, "regional indicator (flag half)"
        assert "SQUARED" not in unicodedata.name(candidate, ""), "lettering in a box"


# --- Fonts ----------------------------------------------------------------------------------------


def test_symbola_maps_emoji_it_draws_and_not_private_use_code_points(symbola: Path) -> None:
    mapped = mapped_code_points(symbola)
    assert ord(glyph("penguin")) in mapped
    assert 0xF8FF not in mapped


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


def test_the_environment_variable_overrides_the_symbola_path(
    symbola: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = Path(shutil.copy(symbola, tmp_path / "MySymbola.ttf"))
    monkeypatch.setenv(SYMBOLA.environment_variable, str(copy))
    assert SYMBOLA.locate() == copy


def test_an_overridden_font_path_that_does_not_exist_fails_the_illustration(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "Symbola.ttf"
    with pytest.raises(IllustrationError, match=str(missing)):
        PictogramIllustrator(symbola_font=missing).illustrate("a penguin")


def test_a_file_that_is_not_a_font_fails_the_illustration(tmp_path: Path) -> None:
    not_a_font = tmp_path / "Symbola.ttf"
    not_a_font.write_bytes(b"not a font at all")
    with pytest.raises(IllustrationError, match="cannot read the font"):
        PictogramIllustrator(symbola_font=not_a_font).illustrate("a penguin")


def test_only_glyphs_the_pictogram_font_has_are_planned(caption_font: Path) -> None:
    # DejaVu Sans stands in for a pictogram font with few emoji: it has the sun but no penguin.
    lacking = PictogramIllustrator(symbola_font=caption_font)
    plan = lacking.plan("two penguins in the sun")
    assert {placed.glyph for placed in plan.glyphs} == {glyph("sun")}


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


def test_wrapping_splits_a_word_too_long_for_a_line(caption_font: Path) -> None:
    font = ImageFont.truetype(str(caption_font), 40)
    lines = wrap("supercalifragilisticexpialidocious", font, 200, max_lines=10)
    assert len(lines) > 1 and "".join(lines) == "supercalifragilisticexpialidocious"
    assert all(font.getlength(line) <= 200 for line in lines)


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


def test_the_picture_is_a_png_of_the_canvas_size(illustrator: PictogramIllustrator) -> None:
    assert decode(illustrator.illustrate("two penguins on the beach")).size == CANVAS_SIZE


@pytest.mark.parametrize("transcript", ["two penguins on the beach", "the weather is nice today"])
def test_the_ink_is_pure_black_on_white(illustrator: PictogramIllustrator, transcript: str) -> None:
    colours = decode(illustrator.illustrate(transcript)).histogram()
    assert {level for level, pixels in enumerate(colours) if pixels} == {INK, PAPER}
    assert colours[PAPER] > colours[INK], "mostly white paper"


def test_the_same_transcript_gives_the_same_bytes(illustrator: PictogramIllustrator) -> None:
    first = illustrator.illustrate("a cat and a dog")
    assert illustrator.illustrate("a cat and a dog") == first
    assert PictogramIllustrator().illustrate("a cat and a dog") == first


def test_different_transcripts_give_different_pictures(illustrator: PictogramIllustrator) -> None:
    assert illustrator.illustrate("a cat") != illustrator.illustrate("a dog")


def test_the_named_things_are_planned_in_their_numbers(illustrator: PictogramIllustrator) -> None:
    plan = illustrator.plan("two penguins on the beach")
    assert Counter(placed.glyph for placed in plan.glyphs) == {
        glyph("penguin"): 2,
        glyph("beach_with_umbrella"): 1,
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
    above_the_caption_rule = Box(0, 0, CANVAS_SIZE[0], plan.caption_box.top - CAPTION_GAP)
    assert not has_ink(blanked, above_the_caption_rule)


def test_the_caption_is_the_transcript_word_for_word(illustrator: PictogramIllustrator) -> None:
    plan = illustrator.plan("  two penguins\non the   beach ")
    assert " ".join(plan.caption.lines) == "two penguins on the beach"


def test_the_caption_sits_below_the_pictograms_inside_the_canvas(
    illustrator: PictogramIllustrator,
) -> None:
    plan = illustrator.plan("two penguins on the beach")
    assert max(placed.cell.bottom for placed in plan.glyphs) < plan.caption_box.top
    assert plan.caption_box.bottom <= CANVAS_SIZE[1]
    assert has_ink(decode(illustrator.illustrate("two penguins on the beach")), plan.caption_box)


def test_a_sentence_naming_nothing_becomes_a_large_typographic_card(
    illustrator: PictogramIllustrator,
) -> None:
    plan = illustrator.plan("the weather is nice today")
    assert plan.is_typographic_card
    assert " ".join(plan.caption.lines) == "the weather is nice today"
    assert plan.caption.font_size > CAPTION_SIZES.start
    assert has_ink(decode(illustrator.illustrate("the weather is nice today")), plan.caption_box)


def test_a_very_long_transcript_still_fits_the_canvas(illustrator: PictogramIllustrator) -> None:
    transcript = "my cat and my dog went to the beach with a penguin " * 40
    plan = illustrator.plan(transcript)
    assert plan.caption.lines[-1].endswith(ELLIPSIS)
    boxes = [plan.caption_box, *(placed.cell for placed in plan.glyphs)]
    assert all(box.top >= 0 and box.bottom <= CANVAS_SIZE[1] for box in boxes)
    assert decode(illustrator.illustrate(transcript)).size == CANVAS_SIZE
