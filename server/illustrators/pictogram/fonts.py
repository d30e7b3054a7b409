"""Finding the pictogram illustrator's caption font: DejaVu Sans Bold (Debian's
``fonts-dejavu-core``), whose heavy strokes survive the printer's 1-bit dithering.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from voxprint.server.illustrators import IllustrationError

log = logging.getLogger(__name__)

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
            log.warning("%s font %s does not exist", self.description, path)
            raise IllustrationError(
                f"the configured {self.description} font file ({self.environment_variable}) does not exist"
            )
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


DEJAVU_SANS = FontSpec(
    description="DejaVu Sans caption",
    file_names=("DejaVuSans-Bold.ttf",),
    usual_path=Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    environment_variable="VOXPRINT_CAPTION_FONT",
    debian_package="fonts-dejavu-core",
)
