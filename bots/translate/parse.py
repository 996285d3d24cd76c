"""Provides parsers of the translate bot's arguments: languages, pairs, on/off, glossary terms."""

from __future__ import annotations

import re

from messenger.config import language_codes
from messenger.i18n import N_

_PAIR = re.compile(r"^([A-Za-z]{2})\s*>\s*([A-Za-z]{2})$")
_GLOSS = re.compile(r"^([A-Za-z]{2})=(.*)$", re.S)
_PREFIX = re.compile(r"^([A-Za-z]{2})\s*:\s*(.*)$", re.S)
MAX_TERM = 200
# A parser's ValueError message is a catalogue msgid (translated where it is shown, as the
# ``reason`` of the command error that quotes the input): it names no input itself.
NOT_A_CODE = N_(
    "not an ISO 639-1 language code: write two letters, e.g. sv, da, nb, en, ne, my "
    "(Norwegian is nb or nn; Filipino is tl)"
)


def language(code: str) -> str:
    """One ISO 639-1 code (any, whether or not the detector knows it); ValueError says how."""
    c = code.strip().lower()
    if c not in language_codes():
        raise ValueError(NOT_A_CODE)
    return c


def languages(text: str) -> list[str]:
    """``sv,en`` → ["sv", "en"] (commas or spaces; duplicates dropped, order kept)."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise ValueError(N_("name at least one language, e.g. sv,en"))
    return list(dict.fromkeys(language(p) for p in parts))


def pair(text: str) -> tuple[str, str]:
    """``da>sv`` → ("da", "sv")."""
    m = _PAIR.match(text.strip())
    if not m:
        raise ValueError(
            N_(
                "not a language pair: write source>target with ISO 639-1 codes, "
                "e.g. da>sv (several: da>sv,en>sw)"
            )
        )
    src, dst = language(m.group(1)), language(m.group(2))
    if src == dst:
        raise ValueError(N_("a pair translates one language into another, e.g. da>sv"))
    return src, dst


def pairs(text: str) -> list[tuple[str, str]]:
    """``da>sv,en>sw`` → [("da", "sv"), ("en", "sw")]."""
    items = [p for p in re.split(r"[,\s]+", re.sub(r"\s*>\s*", ">", text.strip())) if p]
    if not items:
        raise ValueError(N_("name at least one pair, e.g. da>sv"))
    return list(dict.fromkeys(pair(p) for p in items))


def switch(word: str) -> bool:
    """``on`` → True, ``off`` → False (any case)."""
    w = word.lower()
    if w not in {"on", "off"}:
        raise ValueError(N_("write on or off, e.g. !mt on"))
    return w == "on"


def language_prefix(text: str) -> tuple[str, str] | None:
    """``sv: Vi ses`` → ("sv", "Vi ses"); None when the text does not start with a known code."""
    m = _PREFIX.match(text)
    if m and m.group(1).lower() in language_codes():
        return m.group(1).lower(), m.group(2).strip()
    return None


def glossary_args(words: list[str]) -> tuple[str, dict[str, str]]:
    """``"Term" en="Rendering" da="…"`` (already split into words) → (term, {lang: text})."""
    if not words:
        raise ValueError(N_('name the term, e.g. "Fjärilspartiet" en="Butterfly Party"'))
    term = words[0].strip()
    if not term or len(term) > MAX_TERM:
        raise ValueError(N_("a term has 1 to 200 characters"))
    if _GLOSS.match(term):
        raise ValueError(N_('put the term first, e.g. "Fjärilspartiet" en="Butterfly Party"'))
    out: dict[str, str] = {}
    for w in words[1:]:
        m = _GLOSS.match(w)
        if not m:
            raise ValueError(N_('write each rendering as lang="text", e.g. en="Butterfly Party"'))
        value = m.group(2).strip()
        if not value or len(value) > MAX_TERM:
            raise ValueError(N_("a rendering has 1 to 200 characters"))
        out[language(m.group(1))] = value
    if not out:
        raise ValueError(N_('give at least one rendering, e.g. en="Butterfly Party"'))
    return term, out
