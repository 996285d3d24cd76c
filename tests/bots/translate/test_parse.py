"""Parsers of language lists, pairs and glossary arguments; glossary matching (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.translate import parse
from bots.translate.detect import detectable
from bots.translate.model import Term, find_terms, normalise, volunteers_for
from bots.translate.providers import translate_keeping_terms


def test_languages_and_pairs() -> None:
    assert parse.languages("sv,en") == ["sv", "en"]
    assert parse.languages("SV, da sv") == ["sv", "da"]
    assert parse.pairs("da>sv,en>sw") == [("da", "sv"), ("en", "sw")]
    assert parse.pairs("da > sv") == [("da", "sv")]


@pytest.mark.parametrize("bad", ["da-sv", "da>", ">sv", "dan>sv", "da>>sv", "da>da"])
def test_malformed_pairs_say_how_to_write_one(bad: str) -> None:
    with pytest.raises(ValueError, match="da>sv"):
        parse.pairs(bad)


def test_unknown_codes_say_how_to_write_one() -> None:
    with pytest.raises(ValueError, match="ISO 639-1 .* e.g. sv, da, nb"):
        parse.languages("sv,xx")
    with pytest.raises(ValueError, match="Norwegian is nb or nn"):
        parse.language("no")


def test_any_iso_639_1_code_is_a_working_language_though_not_detected() -> None:
    """Issue 16: Nepali and Burmese are listed (lingua detects neither)."""
    assert parse.languages("ne,my,en") == ["ne", "my", "en"]
    assert parse.pairs("ne>en") == [("ne", "en")]
    assert not {"ne", "my"} & detectable()
    assert {"sv", "en"} <= detectable()


def test_glossary_arguments() -> None:
    term, tr = parse.glossary_args(
        ["Fjärilspartiet", "en=Butterfly Party", "DA=Sommerfuglepartiet"]
    )
    assert term == "Fjärilspartiet"
    assert tr == {"en": "Butterfly Party", "da": "Sommerfuglepartiet"}
    for bad in ([], ["Term"], ["Term", "english"], ["en=x"], ["Term", "xx=y"], ["Term", "en="]):
        with pytest.raises(ValueError, match=r"e\.g\.|unknown language|characters"):
            parse.glossary_args(bad)


@given(st.text(max_size=40))
def test_parsers_raise_only_value_error(text: str) -> None:
    for fn in (parse.languages, parse.pairs, parse.language):
        try:
            fn(text)
        except ValueError:
            pass


def test_glossary_terms_are_found_as_whole_words_in_any_form() -> None:
    party = Term("k1", "Fjärilspartiet", {"en": "Butterfly Party", "da": "Sommerfuglepartiet"})
    thai = Term("k2", "พรรคผีเสื้อ", {"en": "Butterfly Party"})
    assert find_terms([party], "Sommerfuglepartiet mener, at …") == [party]
    assert find_terms([party], "the butterfly party says") == [party]
    assert find_terms([party], "Fjärilspartiets politik") == []  # not a whole word
    assert find_terms([thai], "นโยบายของพรรคผีเสื้อคือ") == [thai]  # no spaces in Thai
    assert normalise("  a \n b ") == "a b"


def test_volunteers_for_a_pair_count_norwegian_as_one() -> None:
    table = {"@a:x": [("da", "sv")], "@b:x": [("nn", "en")], "@c:x": [("en", "sw")]}
    assert volunteers_for(table, "da", ["sv", "en"]) == ["@a:x"]
    assert volunteers_for(table, "nb", ["en"]) == ["@b:x"]
    assert volunteers_for(table, "da", ["en"]) == []


class Echo:
    """A provider that upper-cases, keeping tokens (or dropping them when told)."""

    name = "echo"

    def __init__(self, drop: bool = False) -> None:
        self.drop = drop
        self.seen: list[str] = []

    async def check(self) -> None:
        return None

    async def translate(self, text: str, source: str, target: str) -> str:
        self.seen.append(text)
        return "" if self.drop else text.upper()

    async def close(self) -> None:
        return None


async def test_machine_translation_keeps_glossary_terms_as_defined() -> None:
    echo = Echo()
    forms = ["Fjärilspartiet", "Butterfly Party"]
    out, missing = await translate_keeping_terms(
        echo, "fjärilspartiet vill ha mer demokrati", "sv", "en", [(forms, "Butterfly Party")]
    )
    assert "fjärilspartiet" not in echo.seen[0].lower()  # the engine never sees the term
    assert out == "Butterfly Party VILL HA MER DEMOKRATI"
    assert missing == []
    _out, missing = await translate_keeping_terms(
        Echo(drop=True), "Fjärilspartiet vill", "sv", "en", [(forms, "Butterfly Party")]
    )
    assert missing == ["Butterfly Party"]


async def test_machine_translation_shields_terms_where_the_glossary_finds_them() -> None:
    """A term in a script written without spaces (Thai) is found by ``find_terms`` inside a
    run of letters, so it is shielded from the engine there too."""
    thai = Term("k2", "พรรคผีเสื้อ", {"en": "Butterfly Party"})
    text = "นโยบายของพรรคผีเสื้อคือ"
    assert find_terms([thai], text) == [thai]
    echo = Echo()
    out, missing = await translate_keeping_terms(
        echo, text, "th", "en", [(thai.forms(), thai.rendering("en"))]
    )
    assert "พรรคผีเสื้อ" not in echo.seen[0]
    assert "Butterfly Party" in out
    assert missing == []


def test_on_off_and_language_prefix() -> None:
    assert parse.switch("ON") is True
    assert parse.switch("off") is False
    with pytest.raises(ValueError, match="write on or off, e.g. !mt on"):
        parse.switch("yes")
    assert parse.language_prefix("SV:  Vi ses i morgon. ") == ("sv", "Vi ses i morgon.")
    assert parse.language_prefix("xx: not a code") is None
    assert parse.language_prefix("Note: no code") is None
    assert parse.language_prefix("Vi ses") is None
