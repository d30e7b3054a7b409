"""Which pictograms a transcript names: spoken words matched to emoji names and aliases.

The vocabulary is the ``emoji`` package's data (CLDR names such as ``:penguin:`` plus its alias
lists), reduced to emoji that are one plain code point and picture a thing — no flags, keycaps,
skin-tone or ZWJ sequences, components, or boxed lettering like 🆒 (a picture of a word adds
nothing to a caption that already shows the word). The index is built once per process, on
first use.

Matching, in transcript order:

* phrases first: the longest run of up to four words that is a whole emoji name wins
  ("hot dog" draws a hot dog, not a dog);
* a word also matches the head noun of a longer name ("tree" → evergreen tree) or the subject of
  "X with …" / "X face" names ("beach" → beach with umbrella), ranked below exact names;
* plurals fold to singular ("penguins", "puppies", "boxes", "leaves", "mice");
* stop words, and a few words whose emoji shows another sense, never match on their own;
* a number said shortly before a pictogram ("two penguins", "3 big dogs") sets how many copies
  are drawn, capped at :data:`MAX_COPIES`; "zero cats" draws no cat;
* a thing mentioned again is the same thing ("two penguins … the penguins swam" draws two):
  it is drawn as many times as the largest count it was given;
* the whole scene holds at most :data:`MAX_GLYPHS` glyphs: each kind of thing said gets one
  before any gets extra copies, and earlier things get theirs first.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import emoji

MAX_COPIES = 6
"""Most copies of one pictogram drawn, however large the spoken number ("a million stars")."""

MAX_GLYPHS = 12
"""Most glyphs in one scene, so each stays big enough to read on a 384-dot receipt."""

LONGEST_PHRASE = 4
"""Longest run of words tried as one emoji name ("man in tuxedo" has three)."""

NUMBER_REACH = 2
"""Words allowed between a number and the pictogram it counts ("two very big dogs")."""

_FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
_VARIATION_SELECTOR_16 = "\ufe0f"

_STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each else even ever
    every few for from further get gets got had has have having he her here hers herself him
    himself his how i if in into is it its itself just let like made make many me might more most
    much must my myself near no nor not now of off oh ok okay on once only or other our ours
    ourselves out over own please quite really said same say says see she should so some such
    than that the their theirs them themselves then there these they this those through to too
    under until up upon us very want was we well were what when where which while who whom why
    will with would yeah yes yet you your yours yourself yourselves
    """.split()
)

# Words whose only emoji pictures their rarer sense: "the battery dies" is no die (🎲), and "it
# prints" no paw prints (🐾).
_MISLEADING_WORDS = frozenset({"die", "dies", "prints"})

# Everyday words that no emoji is named by, pointed at the CLDR name that pictures them best.
SYNONYMS: dict[str, str] = {
    "kitten": "cat",
    "puppy": "dog",
    "kid": "child",
    "plane": "airplane",
    "music": "musical_note",
    "song": "musical_note",
    "love": "red_heart",
    "sea": "water_wave",
    "snow": "snowflake",
    "wine": "wine_glass",
    "king": "crown",
    "queen": "crown",
    "moon": "crescent_moon",
    "flower": "tulip",
    "night": "night_with_stars",
    "city": "cityscape",
    "stop": "stop_sign",
}

_IRREGULAR_PLURALS = {
    "children": "child",
    "feet": "foot",
    "geese": "goose",
    "men": "man",
    "mice": "mouse",
    "people": "person",
    "teeth": "tooth",
    "women": "woman",
}

_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
        " fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "couple": 2,
    "dozen": 12,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "thousand": 1000,
    "million": 1000000,
}

_LONGEST_COUNT_DIGITS = 3
"""Longer digit runs are years or amounts ("in 2024 the cat …"), not how many things there are."""

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[.,;:!?]")


@dataclass(frozen=True)
class Pictogram:
    """One emoji to draw, ``count`` times."""

    glyph: str
    count: int


# Exact names outrank head nouns, which outrank "X with …" subjects; synonyms outrank all.
_SYNONYM, _NAME, _ALIAS, _HEAD_NOUN, _SUBJECT = range(5)


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

    by_name: dict[str, str] = {}
    for glyph, names in _drawable_emoji():
        for position, name in enumerate(names):
            phrase = _phrase_of(name)
            words = phrase.split()
            if not words:
                continue
            by_name.setdefault(phrase, glyph)
            offer(phrase, glyph, (_NAME if position == 0 else _ALIAS, len(words), ord(glyph)))
        # Only CLDR names read as English noun phrases; aliases are often inverted ("arrow_right").
        words = _phrase_of(names[0]).split()
        if len(words) == 2:
            offer(words[-1], glyph, (_HEAD_NOUN, 2, ord(glyph)))
        if len(words) > 1 and (words[1] == "with" or words[1:] == ["face"]):
            offer(words[0], glyph, (_SUBJECT, len(words), ord(glyph)))
    for word, name in SYNONYMS.items():
        if (glyph := by_name.get(_phrase_of(name))) is not None:
            offer(word, glyph, (_SYNONYM, 1, ord(glyph)))
    return {
        key: tuple((glyph, rank[0]) for glyph, rank in sorted(candidates.items(), key=_by_rank))
        for key, candidates in ranked.items()
    }


def _by_rank(candidate: tuple[str, tuple[int, int, int]]) -> tuple[int, int, int]:
    return candidate[1]


def singular_forms(word: str) -> list[str]:
    """The word itself, then the singulars it may be a plural of, most likely first."""
    forms = [word]
    if word in _IRREGULAR_PLURALS:
        forms.append(_IRREGULAR_PLURALS[word])
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("ves"):
        forms += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    return forms


def _count_of(token: str) -> int | None:
    if token.isdigit():
        return int(token) if len(token) <= _LONGEST_COUNT_DIGITS else None
    return _NUMBER_WORDS.get(token)


def _clauses(transcript: str) -> Iterator[list[str]]:
    """Lower-case words, split at punctuation so no phrase or count reaches across it."""
    clause: list[str] = []
    for token in _TOKEN.findall(transcript.lower().replace("’", "'")):
        if token[0].isalnum():
            clause.append(re.sub(r"'s$", "", token).replace("'", ""))
        elif clause:
            yield clause
            clause = []
    if clause:
        yield clause


def _match_at(words: list[str], start: int, can_draw: Callable[[str], bool]) -> tuple[str, int] | None:
    """The best drawable glyph named by words starting at ``start``, and how many words it used.

    Of the forms of the last word ("stars", "star"), the surest match wins, so the name ":star:"
    beats the alias ":stars:" and the word as said wins a tie ("glasses" stays glasses).
    """
    index = word_index()
    for size in range(min(LONGEST_PHRASE, len(words) - start), 0, -1):
        *leading, last = words[start : start + size]
        if size == 1 and (last in _STOP_WORDS or last in _MISLEADING_WORDS):
            return None
        found = [
            (tier, form_order, glyph)
            for form_order, form in enumerate(singular_forms(last))
            for glyph, tier in index.get(" ".join([*leading, form]), ())
            if can_draw(glyph)
        ]
        if found:
            return min(found)[2], size
    return None


def find_pictograms(transcript: str, can_draw: Callable[[str], bool] = lambda glyph: True) -> list[Pictogram]:
    """The pictograms ``transcript`` names, in the order first said, counted and capped.

    ``can_draw`` says whether a glyph can be drawn (e.g. is in the font); a word whose best emoji
    cannot be drawn falls back to its next candidate.
    """
    counts: dict[str, int] = {}
    for words in _clauses(transcript):
        pending: tuple[int, int] | None = None  # (number said, position said)
        position = 0
        while position < len(words):
            number = _count_of(words[position])
            if number is not None:
                pending = (number, position)
                position += 1
                continue
            match = _match_at(words, position, can_draw)
            if match is None:
                position += 1
                continue
            glyph, size = match
            count = 1
            if pending is not None and position - pending[1] - 1 <= NUMBER_REACH:
                count = pending[0]
            pending = None
            counts[glyph] = max(count, counts.get(glyph, count))
            position += size
    return _fit_to_scene(counts)


def _fit_to_scene(counts: dict[str, int]) -> list[Pictogram]:
    """Cap the counts: every kind of thing said gets one glyph before any gets extra copies."""
    kinds = [glyph for glyph, count in counts.items() if count > 0][:MAX_GLYPHS]
    room = MAX_GLYPHS - len(kinds)
    pictograms = []
    for glyph in kinds:
        extra = min(counts[glyph], MAX_COPIES, 1 + room) - 1
        room -= extra
        pictograms.append(Pictogram(glyph, 1 + extra))
    return pictograms
