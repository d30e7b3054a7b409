"""CLDR's English emoji keywords ("🪑: chair | seat | sit"), read from the Debian package
``unicode-cldr-core``.

The keywords are what people call a picture beyond its formal name: 🌧 is "rain", 🛋 is "couch",
🏰 is "castle". They are read once per process, on first use.
"""

from __future__ import annotations

import functools
import logging
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from voxprint.server.illustrators import IllustrationError

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "VOXPRINT_CLDR_ANNOTATIONS"
DEBIAN_FILE = Path("/usr/share/unicode/cldr/common/annotations/en.xml")
DEBIAN_PACKAGE = "unicode-cldr-core"
_VARIATION_SELECTOR_16 = "\ufe0f"


def _annotations_file() -> Path:
    chosen = os.environ.get(ENVIRONMENT_VARIABLE)
    path = Path(chosen) if chosen else DEBIAN_FILE
    if not path.is_file():
        raise IllustrationError(
            f"the CLDR emoji keywords are not installed: install the Debian package {DEBIAN_PACKAGE} "
            f"(apt-get install {DEBIAN_PACKAGE}) or set {ENVIRONMENT_VARIABLE} to CLDR's annotations/en.xml"
        )
    return path


@functools.cache
def keywords() -> dict[str, tuple[str, ...]]:
    """Single-code-point emoji → its lower-case English keywords, in CLDR's order."""
    try:
        root = ElementTree.parse(_annotations_file()).getroot()
    except (OSError, ElementTree.ParseError) as error:
        log.warning("cannot read the CLDR emoji keywords: %s", error)
        raise IllustrationError("cannot read the CLDR emoji keywords (the server log says why)") from error
    found = {}
    for annotation in root.iter("annotation"):
        glyph = annotation.get("cp", "").replace(_VARIATION_SELECTOR_16, "")
        if len(glyph) == 1 and annotation.get("type") != "tts" and annotation.text:
            found[glyph] = tuple(word.strip().lower() for word in annotation.text.split("|"))
    return found
