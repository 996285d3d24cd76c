"""The catalogues are complete and sound: every extracted string translated in every shipped
language, no fuzzy entries, placeholders and tags kept (no homeserver needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from messenger.i18n import LOCALES_DIR, PSEUDO, available, normalise, pseudo, translator

FIELDS = re.compile(r"\{[^{}]*\}|<[^>]+>")
LANGS = [lang for lang in available() if lang != "en"]
PARTS = sorted(p.stem for p in LOCALES_DIR.glob("*.pot"))


def test_sv_da_nb_are_shipped() -> None:
    assert {"sv", "da", "nb"} <= set(LANGS)
    assert PARTS, "no extracted templates in messenger/locales"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("part", PARTS)
def test_every_string_is_translated_with_its_placeholders(lang: str, part: str) -> None:
    with (LOCALES_DIR / f"{part}.pot").open("rb") as f:
        template = read_po(f)
    po = LOCALES_DIR / lang / "LC_MESSAGES" / f"{part}.po"
    assert po.is_file(), f"{po} is missing: pybabel init -i {part}.pot -l {lang}"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    problems = []
    for msg in template:
        if not msg.id:
            continue
        found = catalog.get(msg.id)
        if found is None or found.fuzzy:
            problems.append(f"untranslated or fuzzy: {msg.id!r}")
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        if not all(strings):
            problems.append(f"empty: {msg.id!r}")
            continue
        want = sorted(set(FIELDS.findall(ids[-1])))
        for s in strings:
            if sorted(set(FIELDS.findall(s))) != want:
                problems.append(f"placeholders differ: {msg.id!r} → {s!r}")
    assert not problems, "\n".join(problems)


def test_formatting_follows_the_language() -> None:
    sv, en = translator("sv"), translator("en")
    when = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    assert "dec." in sv.datetime(when)
    assert "Dec" in en.datetime(when)
    assert sv.money(1234.5, "SEK").replace("\u00a0", " ") == "1 234,50 kr"
    assert en.number(1234.5) == "1,234.5"
    assert sv.gettext("Usage:") == "Användning:"
    assert translator("da").gettext("Example:") == "Eksempel:"


def test_codes_and_the_pseudo_locale() -> None:
    assert normalise("SV") == "sv"
    assert normalise("no") == "nb"
    assert normalise("nb_NO") == "nb"
    assert normalise("xx") is None
    assert normalise(PSEUDO) == PSEUDO
    shown = pseudo("missing {name} (<b>now</b>)")
    assert "{name}" in shown
    assert "<b>" in shown
    assert shown != "missing {name} (<b>now</b>)"
    assert translator(PSEUDO).gettext("Usage:").startswith("⟦")


def test_catalogues_are_package_data() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert "locales/*/LC_MESSAGES/*.po" in text
