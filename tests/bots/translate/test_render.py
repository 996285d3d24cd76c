"""The translate bot's cards and notices go through the catalogue: under the en-XA
pseudo-locale no English sentence is left, and the HTML escapes what members wrote (pure)."""

from __future__ import annotations

import re

from bots.translate import parse, render
from bots.translate.model import Prompt, Term
from messenger.i18n import PSEUDO, translator

ENGLISH = re.compile(
    r"\b(Translation wanted|asks for|Translated|Volunteers|volunteer|Answer|thread|Glossary|"
    r"Machine|machine|translation|unchecked|not in this room|No volunteer|the room)\b"
)


def record(**kw: object) -> Prompt:
    base = Prompt(
        room_id="!r:l", thread_root="$s", text="Sommerfuglepartiet <b>vil</b>", source="da",
        confidence=0.9, targets=["sv", "en"], translated={"sv": "@m:l"},
        volunteers=["@m:l", "@o:l"], present=["@m:l"], drafts={"en": "The <party>"},
        provider="libretranslate",
    )  # fmt: skip
    for k, v in kw.items():
        setattr(base, k, v)
    return base


def outside_fields(text: str) -> str:
    """The text without what is not a sentence: user IDs, codes, pairs, quoted user text."""
    return re.sub(r"@\w:l|⟦|⟧|\([a-z]{2}\)|[a-z]{2}>[a-z]{2}|The <party>", " ", text)


def test_cards_and_notices_leave_no_english_under_the_pseudo_locale() -> None:
    t = translator(PSEUDO)
    term = Term("k", "Sommerfuglepartiet", {"en": "Butterfly Party"})
    for r in (record(), record(requested_by="@a:l"), record(volunteers=[], drafts={})):
        text, html_body = render.prompt(r, [term], t)
        assert not ENGLISH.search(outside_fields(text)), text
        assert "<party>" not in html_body
        assert "<b>vil</b>" not in html_body
    for kw in ({"translator": "@m:l"}, {"translator": None, "machine": "argos"},
               {"translator": None, "reused_from": "@m:l", "kept_missing": ["x"]}):  # fmt: skip
        text, html_body = render.translation("Hej <b>", "sv", t, **kw)  # type: ignore[arg-type]
        assert not ENGLISH.search(outside_fields(text)), text
        assert "Hej &lt;b&gt;" in html_body
    assert "&lt;party&gt;" in render.prompt(record(), [], t)[1]
    assert t.gettext(parse.NOT_A_CODE).startswith("⟦")


def test_a_swedish_card_names_languages_in_swedish() -> None:
    text, _html = render.prompt(record(), [], translator("sv"))
    assert "ser ut att vara på danska (da); rummet arbetar på svenska (sv), engelska (en)" in text
    assert "@o:l (inte i det här rummet)" in text
    assert "Maskinutkast till engelska (en) (libretranslate, egen drift; ogranskat): The" in text
