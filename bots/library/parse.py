"""Provides parsers of the library bot's arguments: entry IDs, types, tags, languages, titles.

A parser's ValueError message is a catalogue msgid, translated where it is shown as the
``reason`` of the command error that quotes the input.
"""

from __future__ import annotations

import re

from bots.library.model import TYPES
from messenger.config import language_codes
from messenger.i18n import N_
from messenger.protocol.library import EntryType

_ID = re.compile(r"^[Kk]([1-9][0-9]{0,8})$")
_TAG = re.compile(r"^[\w][\w\-]{0,39}$")
MAX_TITLE = 200
MAX_TAGS = 12
MAX_TEXT = 200_000
"""Characters of text an entry keeps (a long PDF's text beyond it is cut)."""


def entry_id(word: str) -> str:
    """``k3`` → ``K3``."""
    m = _ID.match(word.strip())
    if not m:
        raise ValueError(N_("not an entry ID: entries are called K1, K2 …"))
    return f"K{m.group(1)}"


def entry_type(word: str) -> EntryType:
    """One of guide, case, lesson, resource, minutes."""
    w = word.strip().lower()
    for t in TYPES:
        if w == t:
            return t
    raise ValueError(N_("not an entry type: write guide, case, lesson, resource or minutes"))


def tags(text: str) -> list[str]:
    """``kenya,youth`` → ["kenya", "youth"] (lower case, duplicates dropped)."""
    parts = [p for p in re.split(r"[,\s]+", text.strip().lower()) if p]
    if not parts:
        raise ValueError(N_("name at least one tag, e.g. kenya,youth"))
    if len(parts) > MAX_TAGS:
        raise ValueError(N_("at most 12 tags"))
    if not all(_TAG.match(p) for p in parts):
        raise ValueError(
            N_("a tag is one word of letters, digits or dashes (at most 40), e.g. kenya,youth")
        )
    return list(dict.fromkeys(parts))


def tag(text: str) -> str:
    """One tag."""
    (one, *rest) = tags(text)
    if rest:
        raise ValueError(N_("name one tag, e.g. kenya"))
    return one


def language(code: str) -> str:
    """One ISO 639-1 code."""
    c = code.strip().lower()
    if c not in language_codes():
        raise ValueError(N_("not an ISO 639-1 language code: write two letters, e.g. sv, da, nb"))
    return c


def title(text: str) -> str:
    """A title: some text, at most 200 characters, on one line."""
    t = " ".join(text.split())
    if not t:
        raise ValueError(N_('write a title in quotes, e.g. "Volunteers in the campaign"'))
    if len(t) > MAX_TITLE:
        raise ValueError(N_("a title has at most 200 characters"))
    return t
