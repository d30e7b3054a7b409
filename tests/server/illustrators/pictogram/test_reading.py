"""Reading a transcript for the pictogram illustrator: which words draw what, in what numbers and roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from voxprint.server.illustrators.pictogram.emoji_index import glyph_named
from voxprint.server.illustrators.pictogram.reading import MAX_COPIES, MAX_GLYPHS, Pictogram, read, singular_forms
from voxprint.server.illustrators.pictogram.vocabulary import ACTIONS


def find_pictograms(transcript: str, can_draw: Callable[[str], bool] = lambda glyph: True) -> list[Pictogram]:
    """Everything the transcript names that will be drawn: its things, then its action."""
    return read(transcript, can_draw).pictograms


def drawn(transcript: str) -> dict[str, int]:
    return {p.glyph: p.count for p in find_pictograms(transcript)}


def things(transcript: str) -> list[str]:
    return [p.glyph for p in read(transcript).things]


def test_a_named_thing_draws_its_emoji() -> None:
    assert drawn("a penguin") == {glyph_named("penguin"): 1}


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("penguins", "penguin"),
        ("puppies", "puppy"),
        ("boxes", "box"),
        ("wolves", "wolf"),
        ("knives", "knife"),
        ("mice", "mouse"),
        ("children", "child"),
    ],
)
def test_plurals_draw_what_their_singular_draws(plural: str, singular: str) -> None:
    assert singular in singular_forms(plural)
    assert drawn(plural).keys() == drawn(singular).keys() != set()


def test_a_word_that_is_a_name_as_said_is_not_folded() -> None:
    assert drawn("glasses") == {glyph_named("glasses"): 1}


def test_words_ending_in_double_s_are_not_plurals() -> None:
    assert singular_forms("glass") == ["glass"]


def test_stop_words_draw_nothing() -> None:
    assert drawn("I will be on it, and so would you, up there with them") == {}


def test_words_whose_emoji_shows_another_sense_draw_nothing() -> None:
    assert drawn("it prints until it dies") == {}


def test_unknown_words_are_ignored() -> None:
    assert drawn("the quixotic penguin pontificated zealously") == {glyph_named("penguin"): 1}


def test_things_come_in_the_order_said() -> None:
    assert things("a dog chased a cat past a penguin") == [glyph_named(name) for name in ("dog", "cat", "penguin")]


def test_a_phrase_that_names_an_emoji_beats_its_words() -> None:
    assert drawn("a hot dog please") == {glyph_named("hot_dog"): 1}


def test_a_cldr_keyword_names_its_emoji() -> None:
    assert drawn("a couch") == {glyph_named("couch_and_lamp"): 1}


@pytest.mark.parametrize(
    ("noun", "category"), [("oak", "deciduous_tree"), ("robin", "bird"), ("sofa", "couch_and_lamp")]
)
def test_a_noun_without_an_emoji_is_drawn_as_its_synonym_or_category(noun: str, category: str) -> None:
    assert drawn(f"an {noun}" if noun[0] in "aeiou" else f"a {noun}") == {glyph_named(category): 1}


def test_a_noun_nothing_pictures_is_reported_unpictured() -> None:
    reading = read("a penguin in a cave")
    assert reading.nouns == ("penguin", "cave")
    assert reading.unpictured_nouns == ("cave",)


# --- Roles ----------------------------------------------------------------------------------------


def test_the_first_thing_said_is_the_subject_and_the_rest_its_objects() -> None:
    reading = read("a dragon eating ice cream")
    assert reading.subject is not None and reading.subject.glyph == glyph_named("dragon")
    assert [p.glyph for p in reading.objects] == [glyph_named("ice_cream")]


@pytest.mark.parametrize(
    ("transcript", "verb"),
    [
        ("a dragon eating ice cream", "eat"),
        ("a rocket flies to the moon", "fly"),
        ("three mice ate the cheese", "eat"),
        ("dogs play in the park", "play"),
        ("I like to swim", "swim"),
    ],
)
def test_a_verb_said_draws_its_action_glyph(transcript: str, verb: str) -> None:
    action = read(transcript).action
    assert action is not None and action.glyph == glyph_named(ACTIONS[verb])


@pytest.mark.parametrize("transcript", ["a fly on the wall", "the drink is cold", "a walk in the park"])
def test_a_word_after_a_determiner_is_a_thing_not_an_action(transcript: str) -> None:
    reading = read(transcript)
    assert reading.action is None
    assert reading.things


def test_an_action_that_pictures_a_thing_already_drawn_is_not_drawn_twice() -> None:
    reading = read("reading a book")
    assert things("reading a book") == [glyph_named("open_book")] and reading.action is None


# --- Counts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transcript", "count"),
    [("a penguin", 1), ("two penguins", 2), ("three penguins", 3), ("5 penguins", 5), ("a couple of penguins", 2)],
)
def test_a_number_before_a_thing_sets_how_many_are_drawn(transcript: str, count: int) -> None:
    assert drawn(transcript) == {glyph_named("penguin"): count}


@pytest.mark.parametrize("transcript", ["twenty penguins", "a million penguins", "999 penguins"])
def test_counts_are_capped(transcript: str) -> None:
    assert drawn(transcript) == {glyph_named("penguin"): MAX_COPIES}


def test_zero_of_a_thing_draws_none_of_it() -> None:
    assert drawn("zero penguins and one dog") == {glyph_named("dog"): 1}


def test_a_number_reaches_past_a_few_describing_words() -> None:
    assert drawn("three very big penguins") == {glyph_named("penguin"): 3}


@pytest.mark.parametrize(
    "transcript",
    ["we waited two hours. a penguin came", "two of my friends and all of their lovely penguin", "in 2024 the penguin"],
)
def test_a_number_does_not_count_a_thing_far_away_or_past_punctuation(transcript: str) -> None:
    assert drawn(transcript)[glyph_named("penguin")] == 1


def test_a_thing_mentioned_again_is_the_same_thing() -> None:
    assert drawn("two penguins came; the penguins sat") == {glyph_named("penguin"): 2, glyph_named(ACTIONS["sit"]): 1}


def test_a_thing_mentioned_again_with_a_larger_number_takes_that_number() -> None:
    assert drawn("a penguin came, then three penguins") == {glyph_named("penguin"): 3}


def test_a_full_scene_shows_every_kind_said_before_extra_copies() -> None:
    pictograms = find_pictograms("six cats, six dogs and six penguins")
    assert sum(p.count for p in pictograms) == MAX_GLYPHS
    assert [p.glyph for p in pictograms] == [glyph_named(name) for name in ("cat", "dog", "penguin")]
    assert pictograms[0].count == MAX_COPIES, "what was said first gets its copies first"


def test_a_scene_holds_the_first_max_glyphs_kinds_said() -> None:
    animals = "cat dog penguin fox wolf horse cow pig sheep chicken bear lion tiger monkey".split()
    first_kinds = [find_pictograms(animal)[0].glyph for animal in animals[:MAX_GLYPHS]]
    pictograms = find_pictograms(" ".join(animals))
    assert [p.glyph for p in pictograms] == first_kinds
    assert all(p.count == 1 for p in pictograms)


def test_a_glyph_that_cannot_be_drawn_gives_way_to_the_next_candidate() -> None:
    best = find_pictograms("dog")[0].glyph
    fallback = find_pictograms("dog", can_draw=lambda candidate: candidate != best)
    assert fallback and fallback[0].glyph != best
    assert find_pictograms("dog", can_draw=lambda candidate: False) == []
