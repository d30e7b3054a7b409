"""Reading a transcript for the pictogram illustrator: which things it names, in what numbers,
who does what, and which nouns found no picture.

:func:`read` is the one reading the illustrator draws from, and what the coverage benchmark
measures. Words are matched to the emoji of :mod:`server.illustrators.pictogram.emoji_index`, in
transcript order:

* phrases first: the longest run of up to four words that names an emoji wins ("hot dog" draws a
  hot dog, not a dog; "ice cream" an ice cream);
* otherwise a word is read as a verb or as a thing. Without a tagger, a word is taken for a verb
  when WordNet knows it as one and it sits where English puts verbs: after "to", a pronoun or an
  auxiliary, or inflected ("flies", "ate", "eating") or bare after a plural, right after the thing
  doing it ("a rocket flies", "dogs play"). The first verb with a glyph in the curated
  :data:`~server.illustrators.pictogram.vocabulary.ACTIONS` becomes the scene's action;
* a thing matches by the word as said, then its lemmas ("puppies" → puppy, "mice" → mouse);
  a noun with no emoji of its own is drawn as its nearest WordNet synonym or category that has one
  ("sofa" → couch, "oak" → tree, "robin" → bird);
* a number said shortly before a thing ("two penguins", "3 big dogs") sets how many copies are
  drawn, capped at :data:`MAX_COPIES`; "zero cats" draws no cat; a thing mentioned again is the
  same thing, drawn as many times as the largest count it was given;
* the first thing said is the scene's subject; the rest are its objects. The scene holds at most
  :data:`MAX_GLYPHS` glyphs: each kind of thing gets one before any gets extra copies, and earlier
  things get theirs first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from voxprint.server.illustrators.pictogram.emoji_index import ALIAS, KEYWORD, glyph_named, word_index
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
from voxprint.server.illustrators.pictogram.wordnet import ADJECTIVE, ADVERB, NOUN, VERB, WordNet, wordnet

MAX_COPIES = 6
"""Most copies of one pictogram drawn, however large the spoken number ("a million stars")."""

MAX_GLYPHS = 12
"""Most glyphs in one scene, so each stays big enough to read on a 384-dot receipt."""

LONGEST_PHRASE = 4
"""Longest run of words tried as one emoji name ("man in tuxedo" has three)."""

NUMBER_REACH = 2
"""Words allowed between a number and the pictogram it counts ("two very big dogs")."""

CATEGORY_SENSES = 2
"""How many of a noun's commonest senses are followed up to a category ("oak": wood, tree)."""

CATEGORY_DEPTH = 6
"""How many steps up WordNet's kinds a noun may go to find a picture ("robin" reaches bird in 4)."""

_LONGEST_COUNT_DIGITS = 3
"""Longer digit runs are years or amounts ("in 2024 the cat …"), not how many things there are."""

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[.,;:!?]")


@dataclass(frozen=True)
class Pictogram:
    """One emoji to draw, ``count`` times, for the word ``said``."""

    glyph: str
    count: int
    said: str = ""


@dataclass(frozen=True)
class Reading:
    """What a transcript shows: things (the first is the subject), an action, and what went unseen."""

    things: tuple[Pictogram, ...]
    action: Pictogram | None
    nouns: tuple[str, ...]
    """Every noun said, as said, whether pictured or not."""
    unpictured_nouns: tuple[str, ...]

    @property
    def subject(self) -> Pictogram | None:
        return self.things[0] if self.things else None

    @property
    def objects(self) -> tuple[Pictogram, ...]:
        return self.things[1:]

    @property
    def pictograms(self) -> list[Pictogram]:
        """Everything drawn: the things, then the action."""
        return [*self.things, *([self.action] if self.action else [])]


def singular_forms(word: str) -> list[str]:
    """The word itself, then the singular nouns it may be a plural of (WordNet's morphy)."""
    return [word, *(lemma for lemma in wordnet().lemmas(word, NOUN) if lemma != word)]


def _count_of(token: str) -> int | None:
    if token.isdigit():
        return int(token) if len(token) <= _LONGEST_COUNT_DIGITS else None
    return NUMBER_WORDS.get(token)


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


@dataclass
class _Reader:
    """The reading of one transcript, built word by word."""

    can_draw: Callable[[str], bool]
    wordnet: WordNet
    counts: dict[str, int] = field(default_factory=dict)
    said: dict[str, str] = field(default_factory=dict)
    action: Pictogram | None = None
    nouns: list[str] = field(default_factory=list)
    unpictured: list[str] = field(default_factory=list)

    def best(self, keys: list[str], worst_tier: int | None = None) -> str | None:
        """The surest drawable candidate over ``keys`` (an earlier key wins a tie)."""
        index = word_index()
        found = [
            (tier, order, glyph)
            for order, key in enumerate(keys)
            for glyph, tier in index.get(key, ())
            if self.can_draw(glyph) and (worst_tier is None or tier <= worst_tier)
        ]
        return min(found)[2] if found else None

    def phrase_at(self, words: list[str], start: int) -> tuple[str, int] | None:
        """A glyph named by two to four words starting at ``start``, and how many words it used."""
        for size in range(min(LONGEST_PHRASE, len(words) - start), 1, -1):
            *leading, last = words[start : start + size]
            glyph = self.best([" ".join([*leading, form]) for form in singular_forms(last)])
            if glyph is not None:
                return glyph, size
        return None

    def is_verb(self, words: list[str], position: int, after_thing: bool) -> bool:
        word = words[position]
        lemmas = self.wordnet.lemmas(word, VERB)
        if not lemmas or word in SYNONYMS:
            return False
        previous = words[position - 1] if position else ""
        following = words[position + 1] if position + 1 < len(words) else ""
        if previous in DETERMINERS or _count_of(previous) is not None:
            return False
        if previous in VERB_CUES or following in DETERMINERS or not self.wordnet.lemmas(word, NOUN):
            return True
        inflected = word not in lemmas
        if inflected and position == 0 and word.endswith("ing"):
            return True  # "reading a book", "jumping on the bed"
        previous_lemmas = self.wordnet.lemmas(previous, NOUN)
        after_plural = bool(previous_lemmas) and previous not in previous_lemmas
        return after_thing and (inflected or after_plural)

    def is_noun(self, words: list[str], position: int) -> bool:
        """A noun, unless it can describe and stands where a description would ("a red chair")."""
        word = words[position]
        if not self.wordnet.lemmas(word, NOUN):
            return False
        if not (self.wordnet.lemmas(word, ADJECTIVE) or self.wordnet.lemmas(word, ADVERB)):
            return True
        previous = words[position - 1] if position else ""
        following = words[position + 1] if position + 1 < len(words) else ""
        before_noun = bool(following) and bool(self.wordnet.lemmas(following, NOUN))
        after_determiner = previous in DETERMINERS or _count_of(previous) is not None
        return after_determiner and not before_noun

    def act(self, word: str) -> None:
        if self.action is not None:
            return
        for lemma in self.wordnet.lemmas(word, VERB):
            if lemma in ACTIONS and self.can_draw(glyph := glyph_named(ACTIONS[lemma])):
                self.action = Pictogram(glyph, 1, word)
                return

    def thing(self, word: str, noun: bool) -> str | None:
        forms = [word, *self.wordnet.lemmas(word, NOUN), *self.wordnet.lemmas(word, ADJECTIVE)]
        glyph = self.best(list(dict.fromkeys(forms)))
        if glyph is None and noun:
            glyph = self.category(self.wordnet.lemmas(word, NOUN))
        return glyph

    def category(self, lemmas: list[str]) -> str | None:
        """The nearest synonym or kind of these nouns that names an emoji. A synonym may match by
        keyword ("sofa" is a couch); a category only by name or alias, as a keyword is too loose a
        link to follow that far ("hero", a sandwich, is no superhero)."""
        for lemma in lemmas:
            nearest: dict[int, list[str]] = {}
            for distance, synset in self.wordnet.kinds_of(lemma, CATEGORY_SENSES, CATEGORY_DEPTH):
                nearest.setdefault(distance, []).extend(word for word in synset.words if word not in GENERAL_CATEGORIES)
            for distance, words in nearest.items():
                if (glyph := self.best(words, worst_tier=KEYWORD if distance == 0 else ALIAS)) is not None:
                    return glyph
        return None

    def count(self, glyph: str, number: int, said: str) -> None:
        self.counts[glyph] = max(number, self.counts.get(glyph, number))
        self.said.setdefault(glyph, said)

    def read_clause(self, words: list[str]) -> None:
        pending: tuple[int, int] | None = None  # (number said, position said)
        after_thing = False
        position = 0
        while position < len(words):
            if (number := _count_of(words[position])) is not None:
                pending = (number, position)
                position += 1
                continue
            glyph, size, after_thing = self.word_at(words, position, after_thing)
            if glyph is not None:
                counted = pending is not None and position - pending[1] - 1 <= NUMBER_REACH
                self.count(glyph, pending[0] if pending and counted else 1, " ".join(words[position : position + size]))
                pending = None
            position += size

    def word_at(self, words: list[str], position: int, after_thing: bool) -> tuple[str | None, int, bool]:
        """The glyph of the thing named at ``position`` if any, how many words were read, and whether
        they named a thing (so that a verb may follow)."""
        if (phrase := self.phrase_at(words, position)) is not None:
            glyph, size = phrase
            self.nouns.append(" ".join(words[position : position + size]))
            return glyph, size, True
        word = words[position]
        if word in STOP_WORDS or word in MISLEADING_WORDS:
            return None, 1, False
        if self.is_verb(words, position, after_thing):
            self.act(word)
            return None, 1, False
        noun = self.is_noun(words, position)
        found = self.thing(word, noun)
        if noun:
            self.nouns.append(word)
            if found is None:
                self.unpictured.append(word)
        return found, 1, noun or found is not None

    def reading(self) -> Reading:
        if self.action is not None and self.action.glyph in self.counts:
            self.action = None  # "reading a book" needs one book, not a book and a book
        room = MAX_GLYPHS - (1 if self.action else 0)
        kinds = [glyph for glyph, count in self.counts.items() if count > 0][:room]
        room -= len(kinds)
        things = []
        for glyph in kinds:
            extra = min(self.counts[glyph], MAX_COPIES, 1 + room) - 1
            room -= extra
            things.append(Pictogram(glyph, 1 + extra, self.said[glyph]))
        return Reading(tuple(things), self.action, tuple(self.nouns), tuple(self.unpictured))


def read(transcript: str, can_draw: Callable[[str], bool] = lambda glyph: True) -> Reading:
    """What ``transcript`` shows. ``can_draw`` says whether a glyph can be drawn; a word whose best
    emoji cannot be drawn falls back to its next candidate."""
    reader = _Reader(can_draw, wordnet())
    for words in _clauses(transcript):
        reader.read_clause(words)
    return reader.reading()
