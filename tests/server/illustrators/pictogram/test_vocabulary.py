"""The hand-made word lists: each curated word draws what it names, and every listed word is
spelled as a transcript is read, or it would never match."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from voxprint.server.illustrators.pictogram.emoji_index import glyph_named
from voxprint.server.illustrators.pictogram.reading import read
from voxprint.server.illustrators.pictogram.vocabulary import (
    ACTIONS,
    DETERMINERS,
    GENERAL_CATEGORIES,
    MISLEADING_WORDS,
    NUMBER_WORDS,
    STOP_WORDS,
    SYNONYMS,
    VERB_CUES,
)

WORD_LISTS: dict[str, Collection[str]] = {
    "SYNONYMS": SYNONYMS,
    "ACTIONS": ACTIONS,
    "MISLEADING_WORDS": MISLEADING_WORDS,
    "GENERAL_CATEGORIES": GENERAL_CATEGORIES,
    "STOP_WORDS": STOP_WORDS,
    "DETERMINERS": DETERMINERS,
    "VERB_CUES": VERB_CUES,
    "NUMBER_WORDS": NUMBER_WORDS,
}


@pytest.mark.parametrize(("word", "name"), sorted(SYNONYMS.items()))
def test_curated_synonyms_draw_the_emoji_they_name(word: str, name: str) -> None:
    drawn = {pictogram.glyph: pictogram.count for pictogram in read(f"the {word}").pictograms}
    assert drawn[glyph_named(name)] == 1


@pytest.mark.parametrize("name", sorted(set(ACTIONS.values())))
def test_every_action_names_a_single_emoji(name: str) -> None:
    assert glyph_named(name)


@pytest.mark.parametrize("words", WORD_LISTS.values(), ids=WORD_LISTS.keys())
def test_every_listed_word_is_lower_case_without_apostrophes(words: Collection[str]) -> None:
    assert words
    for word in words:
        assert word == word.lower() and "'" not in word and word.strip() == word, word
