"""Parsers of the library bot's arguments (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.library import parse


def test_ids_types_tags_titles() -> None:
    assert parse.entry_id("k12") == "K12"
    assert parse.entry_type("Lesson") == "lesson"
    assert parse.tags("Kenya, youth,kenya") == ["kenya", "youth"]
    assert parse.tag("kenya") == "kenya"
    assert parse.language("DA") == "da"
    assert parse.title("  Two   words ") == "Two words"


@pytest.mark.parametrize(
    ("fn", "word"),
    [
        (parse.entry_id, "K0"),
        (parse.entry_id, "E3"),
        (parse.entry_id, "K"),
        (parse.entry_type, "poem"),
        (parse.tags, ","),
        (parse.tags, "a!b"),
        (parse.tags, ",".join(f"t{i}" for i in range(13))),
        (parse.tag, "a,b"),
        (parse.language, "xx"),
        (parse.title, "   "),
        (parse.title, "x" * 201),
    ],
)
def test_bad_words_are_refused_with_a_reason(fn, word: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"\w"):
        fn(word)


@given(st.text(max_size=60))
def test_parsers_raise_only_value_error(text: str) -> None:
    for fn in (
        parse.entry_id,
        parse.entry_type,
        parse.tags,
        parse.tag,
        parse.language,
        parse.title,
    ):
        try:
            fn(text)
        except ValueError:
            pass
