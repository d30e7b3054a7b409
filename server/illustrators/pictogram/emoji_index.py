"""The emoji index: every word or phrase that names an emoji, best candidates first.

Sources, surest first:

* the curated :data:`~server.illustrators.pictogram.vocabulary.SYNONYMS` (everyday words no emoji
  is named by: "kitten" → cat, "sad" → crying face);
* CLDR names (``:penguin:``) and the ``emoji`` package's aliases;
* CLDR keywords ("🪑: chair | seat | sit"), from :mod:`server.illustrators.pictogram.cldr`,
  leaving out keywords so broad they name dozens of emoji ("face", "hand");
* the head noun of a two-word name ("tree" → evergreen tree) and the subject of "X with …" /
  "X face" names ("beach" → beach with umbrella).

Only emoji that are one plain code point and picture a thing are indexed — no flags, keycaps,
skin-tone or ZWJ sequences, components, or boxed lettering like 🆒 (a picture of a word adds
nothing to a caption that already shows the word). The index is built once per process.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Set

import emoji

from voxprint.server.illustrators.pictogram.cldr import keywords as cldr_keywords
from voxprint.server.illustrators.pictogram.vocabulary import SYNONYMS

_FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
_VARIATION_SELECTOR_16 = "\ufe0f"

BROADEST_KEYWORD = 8
"""A CLDR keyword shared by more emoji than this says too little to pick one ("face", "hand")."""

# Curated synonyms outrank exact names, which outrank aliases, keywords, head nouns, then "X with …".
SYNONYM, NAME, ALIAS, KEYWORD, HEAD_NOUN, SUBJECT = range(6)


def glyph_named(name: str) -> str:
    """The single code point the ``emoji`` package spells ``:name:``."""
    glyph = emoji.emojize(f":{name}:").replace(_VARIATION_SELECTOR_16, "")
    if len(glyph) != 1:
        raise ValueError(f"{name!r} does not name a single-code-point emoji")
    return glyph


def _shared_keywords(glyphs: Set[str]) -> dict[str, list[str]]:
    """Glyph → its CLDR keywords that name at most :data:`BROADEST_KEYWORD` indexed emoji."""
    indexed = {glyph: words for glyph, words in cldr_keywords().items() if glyph in glyphs}
    sharing = Counter(word for words in indexed.values() for word in words)
    return {glyph: [word for word in words if sharing[word] <= BROADEST_KEYWORD] for glyph, words in indexed.items()}


def _phrase_of(emoji_name: str) -> str:
    """``:woman’s_hat:`` → ``womans hat``; ``:A_button_(blood_type):`` → ``a button``."""
    name = re.sub(r"_?\(.*?\)", "", emoji_name.strip(":")).lower()
    name = re.sub(r"[’'.!]", "", name)
    return " ".join(name.split("_"))


def _pictures_a_thing(glyph: str, names: list[str]) -> bool:
    if unicodedata.category(glyph) == "Sk":  # skin-tone modifiers
        return False
    # Boxed or circled lettering (🆒, 🈯, Ⓜ) and word arrows (🔙, ":BACK_arrow:").
    lettered = any(word in unicodedata.name(glyph, "") for word in ("SQUARED", "CIRCLED"))
    shouted = any(re.search(r"(?:^|_)[A-Z]{2,}!?(?:_|$)", name.strip(":")) for name in names)
    return not (lettered or shouted)


def _drawable_emoji() -> Iterator[tuple[str, list[str]]]:
    """(single code point, [CLDR name, *aliases]) for every emoji worth drawing."""
    for sequence, data in emoji.EMOJI_DATA.items():
        glyph = sequence.replace(_VARIATION_SELECTOR_16, "")
        if data["status"] != _FULLY_QUALIFIED or len(glyph) != 1:
            continue
        names = [data["en"], *data.get("alias", [])]
        if _pictures_a_thing(glyph, names):
            yield glyph, names


@functools.cache
def word_index() -> dict[str, tuple[tuple[str, int], ...]]:
    """Word or phrase → (glyph, tier) candidates, best first; a lower tier is a surer match.

    Callers skip candidates they cannot draw.
    """
    ranked: dict[str, dict[str, tuple[int, int, int]]] = {}

    def offer(key: str, glyph: str, rank: tuple[int, int, int]) -> None:
        best = ranked.setdefault(key, {})
        best[glyph] = min(rank, best.get(glyph, rank))

    glyphs = set()
    for glyph, names in _drawable_emoji():
        glyphs.add(glyph)
        for position, name in enumerate(names):
            phrase = _phrase_of(name)
            words = phrase.split()
            if not words:
                continue
            offer(phrase, glyph, (NAME if position == 0 else ALIAS, len(words), ord(glyph)))
        # Only CLDR names read as English noun phrases; aliases are often inverted ("arrow_right").
        words = _phrase_of(names[0]).split()
        if len(words) == 2:
            offer(words[-1], glyph, (HEAD_NOUN, 2, ord(glyph)))
        if len(words) > 1 and (words[1] == "with" or words[1:] == ["face"]):
            offer(words[0], glyph, (SUBJECT, len(words), ord(glyph)))
    for glyph, words in _shared_keywords(glyphs).items():
        for keyword in words:
            offer(keyword, glyph, (KEYWORD, len(cldr_keywords()[glyph]), ord(glyph)))
    for word, name in SYNONYMS.items():
        offer(word, glyph_named(name), (SYNONYM, 1, 0))
    return {
        key: tuple((glyph, rank[0]) for glyph, rank in sorted(candidates.items(), key=_by_rank))
        for key, candidates in ranked.items()
    }


def _by_rank(candidate: tuple[str, tuple[int, int, int]]) -> tuple[int, int, int]:
    return candidate[1]
