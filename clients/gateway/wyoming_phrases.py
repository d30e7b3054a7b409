"""What voxprint hears in a phrase and what it says back, for Home Assistant's voice pipeline.

The wake phrase (`--wake-phrase draw,print`) lets a pipeline shared with home control print only
what is meant for paper: "Draw a dragon." is drawn as "a dragon"; "turn on the lights" is left
alone. Without a wake phrase every phrase is drawn as it was said.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

# A satellite reads the answer aloud: a long phrase is cut where a listener would stop caring.
SPOKEN_PHRASE_LIMIT = 80
# What may separate the wake phrase from what to draw ("Draw: a dragon", "print - a cat").
_SEPARATORS = r"[\s,.:;!?\-–—]*"


@dataclass(frozen=True)
class WakePhrase:
    """Phrases that must open a request (case and surrounding punctuation ignored); none = any."""

    phrases: tuple[str, ...] = ()
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str | None) -> WakePhrase:
        """ "draw, print" → the two phrases; each may be several words ("draw me")."""
        phrases = (" ".join(part.split()) for part in (text or "").split(","))
        return cls(tuple(phrase for phrase in phrases if phrase))

    def __post_init__(self) -> None:
        # Longest first, so "draw me" wins over "draw"; whole words only ("drawer" is not "draw").
        alternatives = "|".join(
            r"\s+".join(map(re.escape, phrase.split())) for phrase in sorted(self.phrases, key=len, reverse=True)
        )
        pattern = re.compile(rf"^{_SEPARATORS}(?:{alternatives})\b{_SEPARATORS}", re.IGNORECASE)
        object.__setattr__(self, "_pattern", pattern)

    def subject(self, text: str) -> str | None:
        """What to draw: `text` without its wake phrase (and the punctuation around it), or None
        when it does not start with one. Without wake phrases, `text` itself."""
        if not self.phrases:
            return text.strip()
        match = self._pattern.match(text)
        return text[match.end() :].strip() if match else None

    def describe(self) -> str:
        """The phrases as a listener would hear them: “draw” or “print”."""
        return " or ".join(f"“{phrase}”" for phrase in self.phrases)


def normalised(text: str) -> str:
    """A phrase as compared between programs: lower case, no punctuation, single spaces (a
    speech-to-text's "Draw a dragon." and a pipeline's "draw a dragon" are the same request)."""
    return " ".join(text.casefold().translate(_NO_PUNCTUATION).split())


_NO_PUNCTUATION = str.maketrans({character: " " for character in string.punctuation + "“”‘’–—…"})


def printing(subject: str) -> str:
    """The answer a satellite speaks for a picture on its way: "Printing a dragon"."""
    spoken = subject.strip().rstrip(".!?…").strip()
    if len(spoken) > SPOKEN_PHRASE_LIMIT:
        spoken = spoken[:SPOKEN_PHRASE_LIMIT].rsplit(" ", 1)[0] + "…"
    return f"Printing {spoken}"


def not_a_drawing(wake: WakePhrase) -> str:
    return f"I only draw what starts with {wake.describe()}, like “{wake.phrases[0]} a dragon”."


NOTHING_TO_DRAW = "What should I draw? Say it again with a picture in it."
UNREACHABLE = "The picture printer cannot be reached right now."
BUSY = "The picture printer is busy. Try again in a moment."
