"""The offline pictogram illustrator: what a transcript names, drawn as OpenMoji line art above the
transcript as a caption. No model and nothing downloaded; the same transcript always gives the
same PNG.

A transcript flows through the modules in this order:

1. :mod:`.illustrator` — :class:`PictogramIllustrator`, the backend: puts the transcript on one
   line (the caption) and runs the steps below;
2. :mod:`.reading` — what the transcript names: things in their numbers (the first is the
   subject), an action, and the nouns nothing pictures. It looks words up in
   * :mod:`.vocabulary` — every hand-made word list: curated synonyms and action glyphs, words
     whose emoji shows another sense, stop words, determiners, number words;
   * :mod:`.emoji_index` — every word or phrase that names an emoji, surest first: the curated
     synonyms, the ``emoji`` package's names and aliases, and the keywords :mod:`.cldr` reads
     ("🪑: chair | seat | sit");
   * :mod:`.wordnet` — lemmas ("mice" → mouse) and noun categories ("oak" → tree);
   and keeps only glyphs :mod:`.art` has a drawing of;
3. :mod:`.layout` — where each glyph goes (subject large, action small, objects beside and
   beneath) and the caption fitted to its box, in the font :mod:`.fonts` finds;
4. :mod:`.art` — each glyph drawn from OpenMoji's SVGs as thick black line art, which
   :mod:`.illustrator` pastes into its cell before setting the caption and encoding the PNG.

How it reads, lays out and prints, with its coverage: docs/illustrator.md.
"""

from voxprint.server.illustrators.pictogram.illustrator import PictogramIllustrator, PlacedGlyph, ScenePlan
from voxprint.server.illustrators.pictogram.reading import Pictogram, Reading

__all__ = ["PictogramIllustrator", "Pictogram", "PlacedGlyph", "Reading", "ScenePlan"]
