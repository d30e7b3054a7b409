"""Finding the pictogram illustrator's two fonts, and which glyphs the pictogram font has.

Both are Debian packages: Symbola (``fonts-symbola``) draws emoji as monochrome line art, which
prints crisply on thermal paper where colour emoji would dither to grey mud; DejaVu Sans
(``fonts-dejavu-core``) sets the caption.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError

from server.illustrators import IllustrationError

_FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


@dataclass(frozen=True)
class FontSpec:
    """Where a font is usually installed, how to override it, and which package ships it."""

    description: str
    file_names: tuple[str, ...]
    usual_path: Path
    environment_variable: str
    debian_package: str

    def locate(self, override: str | os.PathLike[str] | None = None) -> Path:
        """The font file: ``override``, else the environment variable, else an installed copy.

        Raises :class:`IllustrationError` naming the Debian package when none is found.
        """
        chosen = override or os.environ.get(self.environment_variable)
        if chosen:
            path = Path(chosen)
            if path.is_file():
                return path
            raise IllustrationError(f"{self.description} font not found at {path}")
        if self.usual_path.is_file():
            return self.usual_path
        for root in _FONT_ROOTS:
            # Sorted so that the same machine always picks the same copy.
            for name in self.file_names:
                found = sorted(root.rglob(name)) if root.is_dir() else []
                if found:
                    return found[0]
        raise IllustrationError(
            f"{self.description} font is not installed: install the Debian package "
            f"{self.debian_package} (apt-get install {self.debian_package}) "
            f"or set {self.environment_variable} to a font file"
        )


SYMBOLA = FontSpec(
    description="Symbola pictogram",
    file_names=("Symbola_hint.ttf", "Symbola.ttf", "Symbola.otf"),
    usual_path=Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"),
    environment_variable="VOXPRINT_SYMBOLA_FONT",
    debian_package="fonts-symbola",
)

DEJAVU_SANS = FontSpec(
    description="DejaVu Sans caption",
    file_names=("DejaVuSans-Bold.ttf",),
    usual_path=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    environment_variable="VOXPRINT_CAPTION_FONT",
    debian_package="fonts-dejavu-core",
)


@functools.cache
def mapped_code_points(font_path: Path) -> frozenset[int]:
    """Every code point the font's character map assigns a glyph to (read once per font).

    The cmap is the font's own statement of what it draws. Comparing rendered bitmaps against the
    ``.notdef`` box instead would guess, and guess wrong for glyphs that are legitimately blank
    or box-like (□, ⬜) and for fonts whose ``.notdef`` is empty.
    """
    try:
        with TTFont(font_path, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError) as error:
        raise IllustrationError(f"cannot read the font {font_path}: {error}") from error
