"""The emoji index: which words name which emoji."""

from __future__ import annotations

import unicodedata

from voxprint.server.illustrators.pictogram.emoji_index import word_index


def test_the_index_holds_only_single_plain_pictures() -> None:
    glyphs = {candidate for candidates in word_index().values() for candidate, _ in candidates}
    assert glyphs
    for candidate in glyphs:
        assert len(candidate) == 1
        assert unicodedata.category(candidate) != "Sk", "skin-tone modifier"
        assert not 0x1F1E6 <= ord(candidate) <= 0x1F1FF, "regional indicator (flag half)"
        assert "SQUARED" not in unicodedata.name(candidate, ""), "lettering in a box"
