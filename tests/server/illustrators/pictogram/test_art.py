"""Pictogram artwork: OpenMoji's outlines drawn as thick black line art that fills its square."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from voxprint.server.illustrators import IllustrationError
from voxprint.server.illustrators.pictogram import PictogramIllustrator
from voxprint.server.illustrators.pictogram.art import (
    ENVIRONMENT_VARIABLE,
    MIN_STROKE,
    art_directory,
    drawable_glyphs,
    render,
)
from voxprint.server.illustrators.pictogram.emoji_index import glyph_named

INK, PAPER = 0, 255
SAMPLES = ["penguin", "chair", "rocket", "dragon", "automobile", "deciduous_tree"]


@pytest.fixture(scope="module")
def art() -> Path:
    return art_directory()


def ink_pixels(image: Image.Image) -> int:
    return image.histogram()[INK]


def test_the_artwork_has_emoji_newer_than_symbola_drew(art: Path) -> None:
    # Unicode 12 and 13: Symbola (Unicode 9) had neither.
    assert {glyph_named("chair"), glyph_named("ladder")} <= drawable_glyphs(art)


def test_sequences_and_private_extras_are_not_listed_as_drawable(art: Path) -> None:
    assert all(len(glyph) == 1 and not 0xE000 <= ord(glyph) <= 0xF8FF for glyph in drawable_glyphs(art))


@pytest.mark.parametrize("name", SAMPLES)
def test_a_drawing_is_pure_black_on_white(art: Path, name: str) -> None:
    image = render(glyph_named(name), 200, art)
    levels = {level for level, pixels in enumerate(image.histogram()) if pixels}
    assert levels == {INK, PAPER}
    assert image.size == (200, 200)


@pytest.mark.parametrize("name", SAMPLES)
def test_a_drawing_fills_its_square(art: Path, name: str) -> None:
    image = render(glyph_named(name), 200, art)
    ink_box = image.point(lambda level: 255 - level).getbbox()
    assert ink_box is not None
    left, top, right, bottom = ink_box
    assert max(right - left, bottom - top) >= 196


@pytest.mark.parametrize("name", SAMPLES)
def test_small_drawings_keep_strokes_thick_enough_to_print(art: Path, name: str) -> None:
    image = render(glyph_named(name), 100, art)
    # Thinning every stroke by MIN_STROKE // 2 pixels on each side erases hairlines; most ink survives.
    thinned = image.filter(ImageFilter.MaxFilter(2 * (MIN_STROKE // 2) - 1))
    assert ink_pixels(thinned) >= 0.2 * ink_pixels(image)


def test_light_colour_is_left_out_and_near_black_fills_print_as_ink(tmp_path: Path) -> None:
    (tmp_path / "1F7E5.svg").write_text(
        '<svg viewBox="0 0 72 72" xmlns="http://www.w3.org/2000/svg">'
        '<g id="color"><rect x="0" y="0" width="36" height="72" fill="#F4AA41"/>'
        '<rect x="36" y="0" width="36" height="72" fill="#3F3F3F"/></g>'
        '<g id="line"><rect x="0" y="0" width="72" height="72" fill="none" stroke="#000000" stroke-width="2"/></g>'
        "</svg>"
    )
    image = render("\U0001f7e5", 100, tmp_path)
    assert image.crop((20, 20, 40, 80)).getextrema() == (PAPER, PAPER), "orange left out"
    assert image.crop((60, 20, 80, 80)).getextrema() == (INK, INK), "dark grey printed as ink"
    assert image.getpixel((0, 50)) == INK, "outline kept"


def test_an_art_directory_that_does_not_exist_fails_the_illustration(tmp_path: Path) -> None:
    missing = tmp_path / "svg"
    with pytest.raises(IllustrationError, match="artwork directory .* does not exist") as raised:
        PictogramIllustrator(art_directory=missing).illustrate("a penguin")
    assert str(tmp_path) not in str(raised.value)  # job errors reach clients: no server paths


def test_the_environment_variable_overrides_the_art_directory(
    art: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path))
    assert art_directory() == tmp_path


def test_only_glyphs_the_artwork_has_are_planned(art: Path, tmp_path: Path) -> None:
    sun = glyph_named("sun")
    shutil.copy(art / f"{ord(sun):04X}.svg", tmp_path)
    plan = PictogramIllustrator(art_directory=tmp_path).plan("two penguins in the sun")
    assert {placed.glyph for placed in plan.glyphs} == {sun}


def test_an_unreadable_drawing_fails_the_illustration(tmp_path: Path) -> None:
    (tmp_path / f"{ord(glyph_named('penguin')):04X}.svg").write_text("<svg this is not")
    with pytest.raises(IllustrationError, match="cannot read the pictogram drawing"):
        PictogramIllustrator(art_directory=tmp_path).illustrate("a penguin")
