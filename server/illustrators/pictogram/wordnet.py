"""English word knowledge from Princeton WordNet 3.0, read from the Debian package ``wordnet-base``.

Two things are taken from it, with no model and nothing downloaded:

* lemmas, by WordNet's own rule-based ``morphy`` (suffix rules plus the package's exception lists:
  "mice" → mouse, "ate" → eat, "flies" → fly);
* what a noun is a kind of, by its hypernyms ("oak" → tree, "robin" → thrush → … → bird), and its
  synonyms ("sofa" → couch), so a noun with no picture of its own can be drawn as its category.

The files are read once per process, on first use (about half a second).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voxprint.server.illustrators import IllustrationError

ENVIRONMENT_VARIABLE = "VOXPRINT_WORDNET_DIR"
DEBIAN_DIRECTORY = Path("/usr/share/wordnet")
DEBIAN_PACKAGE = "wordnet-base"

NOUN, VERB, ADJECTIVE, ADVERB = "noun", "verb", "adj", "adv"
_PARTS_OF_SPEECH = (NOUN, VERB, ADJECTIVE, ADVERB)

# WordNet's morphy suffix rules (Princeton's morph.c), per part of speech.
_SUFFIX_RULES = {
    NOUN: (
        ("s", ""),
        ("ses", "s"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    VERB: (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")),
    ADJECTIVE: (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    ADVERB: (),
}
_HYPERNYM_POINTERS = frozenset({"@", "@i"})
_SUBSTANCE_FILE = 27
"""WordNet's lexicographer file ``noun.substance``: "oak" the wood, beside "oak" the tree."""


@dataclass(frozen=True)
class Synset:
    """One noun sense: the words that name it and the senses it is a kind of."""

    offset: int
    words: tuple[str, ...]
    hypernyms: tuple[int, ...]
    is_substance: bool


class WordNet:
    """Lemmas and noun categories from one WordNet ``dict`` directory."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._index = {pos: self._read_index(pos) for pos in _PARTS_OF_SPEECH}
        self._exceptions = {pos: self._read_exceptions(pos) for pos in _PARTS_OF_SPEECH}
        self._nouns = self._read("data.noun")
        self._synsets: dict[int, Synset] = {}

    def _read(self, name: str) -> bytes:
        try:
            return (self._directory / name).read_bytes()
        except OSError as error:
            raise IllustrationError(f"cannot read WordNet's {name}: {error.strerror}") from error

    def _read_index(self, pos: str) -> dict[str, tuple[int, ...]]:
        """Lemma → its senses' offsets, most frequent sense first."""
        index = {}
        for line in self._read(f"index.{pos}").decode().splitlines():
            if line.startswith(" "):
                continue  # the licence at the top of the file
            fields = line.split()
            senses = int(fields[2])
            index[fields[0]] = tuple(int(offset) for offset in fields[-senses:])
        return index

    def _read_exceptions(self, pos: str) -> dict[str, tuple[str, ...]]:
        lines = self._read(f"{pos}.exc").decode().splitlines()
        return {fields[0]: tuple(fields[1:]) for fields in map(str.split, lines) if len(fields) > 1}

    def lemmas(self, word: str, pos: str) -> list[str]:
        """The dictionary forms ``word`` may be an inflection of, as ``pos``: itself first if a lemma."""
        found = [word] if word in self._index[pos] else []
        candidates = [*self._exceptions[pos].get(word, ())]
        candidates += [word[: -len(suffix)] + ending for suffix, ending in _SUFFIX_RULES[pos] if word.endswith(suffix)]
        for candidate in candidates:
            if candidate in self._index[pos] and candidate not in found:
                found.append(candidate)
        return found

    def noun_senses(self, lemma: str) -> tuple[int, ...]:
        return self._index[NOUN].get(lemma.replace(" ", "_"), ())

    def synset(self, offset: int) -> Synset:
        if offset not in self._synsets:
            self._synsets[offset] = self._parse_synset(offset)
        return self._synsets[offset]

    def _parse_synset(self, offset: int) -> Synset:
        end = self._nouns.index(b"\n", offset)
        fields = self._nouns[offset:end].split(b" | ")[0].decode().split()
        word_count = int(fields[3], 16)
        words = tuple(fields[4 + 2 * i].lower().replace("_", " ") for i in range(word_count))
        pointers_at = 4 + 2 * word_count
        pointer_count = int(fields[pointers_at])
        pointers = [fields[pointers_at + 1 + 4 * i : pointers_at + 5 + 4 * i] for i in range(pointer_count)]
        hypernyms = tuple(
            int(target) for symbol, target, pos, _ in pointers if symbol in _HYPERNYM_POINTERS and pos == "n"
        )
        return Synset(offset, words, hypernyms, is_substance=int(fields[1]) == _SUBSTANCE_FILE)

    def kinds_of(self, lemma: str, senses: int, depth: int) -> Iterator[tuple[int, Synset]]:
        """(distance, synset) for the first ``senses`` senses of the noun ``lemma`` (distance 0) and
        their hypernyms up to ``depth`` steps above, nearest first; a thing comes before the
        material it is made of, since a thing is what a picture shows."""
        frontier = sorted(self.noun_senses(lemma)[:senses], key=lambda offset: self.synset(offset).is_substance)
        seen = set(frontier)
        for distance in range(depth + 1):
            following = []
            for offset in frontier:
                synset = self.synset(offset)
                yield distance, synset
                for parent in synset.hypernyms:
                    if parent not in seen:
                        seen.add(parent)
                        following.append(parent)
            frontier = following


def _wordnet_directory() -> Path:
    chosen = os.environ.get(ENVIRONMENT_VARIABLE)
    directory = Path(chosen) if chosen else DEBIAN_DIRECTORY
    if not (directory / "index.noun").is_file():
        raise IllustrationError(
            f"WordNet is not installed: install the Debian package {DEBIAN_PACKAGE} "
            f"(apt-get install {DEBIAN_PACKAGE}) or set {ENVIRONMENT_VARIABLE} to a WordNet dict directory"
        )
    return directory


@functools.cache
def wordnet() -> WordNet:
    """The installed WordNet, read on first use."""
    return WordNet(_wordnet_directory())
