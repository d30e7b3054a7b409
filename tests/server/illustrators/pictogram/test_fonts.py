"""Finding the caption font: an override, the environment, an installed copy, else a message naming the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxprint.server.illustrators import IllustrationError
from voxprint.server.illustrators.pictogram import PictogramIllustrator
from voxprint.server.illustrators.pictogram.fonts import DEJAVU_SANS, FontSpec


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


def test_the_environment_variable_overrides_the_installed_caption_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path / "Caption.ttf"
    chosen.write_bytes(DEJAVU_SANS.locate().read_bytes())
    monkeypatch.setenv(DEJAVU_SANS.environment_variable, str(chosen))
    assert DEJAVU_SANS.locate() == chosen
