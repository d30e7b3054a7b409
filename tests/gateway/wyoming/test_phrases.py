"""The wake phrase, the comparison of phrases between programs, and the sentence a satellite speaks."""

from __future__ import annotations

import pytest

from voxprint.clients.gateway.wyoming_phrases import WakePhrase, normalised, printing

WAKE = WakePhrase.parse("draw, print, draw me")


@pytest.mark.parametrize(
    ("heard", "subject"),
    [
        ("Draw a dragon.", "a dragon."),
        ("draw: a cat", "a cat"),
        ("  PRINT -  two penguins", "two penguins"),
        ("Draw me a house", "a house"),
        ("draw", ""),
    ],
)
def test_a_phrase_starting_with_a_wake_phrase_is_drawn_without_it(heard: str, subject: str) -> None:
    assert WAKE.subject(heard) == subject


@pytest.mark.parametrize("heard", ["Turn on the lights", "the drawer is open", "printer status", "a dragon, draw it"])
def test_a_phrase_not_starting_with_a_wake_phrase_is_not_drawn(heard: str) -> None:
    assert WAKE.subject(heard) is None


def test_without_a_wake_phrase_everything_is_drawn_as_said() -> None:
    assert WakePhrase.parse(None).subject(" Turn on the lights ") == "Turn on the lights"
    assert WakePhrase.parse(" , ").phrases == ()


def test_a_speech_to_text_transcript_and_a_pipelines_text_compare_equal() -> None:
    assert normalised("Draw a dragon.") == normalised("draw  a DRAGON") == "draw a dragon"


def test_the_answer_names_the_picture_without_end_punctuation_and_is_short() -> None:
    assert printing("a dragon.") == "Printing a dragon"
    long = printing("a dragon " * 30)
    assert len(long) < 100 and long.endswith(" a…")
