"""Provides what the library bot shows: entry cards, search results, lists and whole entries.

Every piece of user text and every translated string is escaped before it goes into HTML;
text comes in the language of the ``Translator`` given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from bots.library.model import Entry
from messenger.fulltext import snippet
from messenger.i18n import N_, Translator

TYPE_WORDS = {
    "guide": N_("guide"),
    "case": N_("case study"),
    "lesson": N_("lesson learnt"),
    "resource": N_("resource"),
    "minutes": N_("minutes"),
}
SCOPE_WORDS = {
    "room": N_("visible to this room's members"),
    "org": N_("shared with the whole organisation"),
    "partners": N_("shared with the organisation and its partners"),
}
CARD_EXCERPT = 300
SHOW_CHARS = 8000  # of the text in one message; the rest stays in the entry (and its file)

Reply = tuple[str, str]  # (text, HTML)


def _join(lines: list[Reply]) -> Reply:
    return "\n".join(t for t, _ in lines), "<br/>".join(h for _, h in lines)


def _plain(text: str) -> Reply:
    return text, escape(text).replace("\n", "<br/>")


def type_word(t: Translator, kind: str) -> str:
    """The entry type in ``t``'s language."""
    return t.gettext(TYPE_WORDS.get(kind, kind))


def _facts(t: Translator, e: Entry) -> str:
    parts = [type_word(t, e.type)]
    if e.tags:
        parts.append(t.gettext("tags: {tags}").format(tags=", ".join(e.tags)))
    if e.lang:
        parts.append(t.gettext("language: {lang}").format(lang=e.lang))
    day = datetime.fromtimestamp(e.created_ms / 1000, UTC)
    parts.append(
        t.gettext("by {author}, {day}").format(author=e.author, day=t.datetime(day, "medium"))
    )
    return " · ".join(parts)


def _heading(e: Entry) -> Reply:
    return f"📚 {e.id} · {e.title}", f"📚 <b>{e.id}</b> · <b>{escape(e.title)}</b>"


def card(t: Translator, e: Entry) -> Reply:
    """The room's card of an entry (edited in place when it changes)."""
    if e.removed:
        text = t.gettext("{id} · {title}: removed from the library").format(id=e.id, title=e.title)
        return _plain("🗑 " + text)
    lines = [_heading(e), _plain(_facts(t, e))]
    lines.append(_plain(t.gettext(SCOPE_WORDS[e.scope])))
    if e.public:
        lines.append(_plain(t.gettext("its title is listed in the public transparency report")))
    excerpt = snippet(e.text, [], CARD_EXCERPT)
    lines.append((excerpt, f"<blockquote>{escape(excerpt)}</blockquote>"))
    if e.file:
        lines.append(_plain(t.gettext("file: {name}").format(name=e.file.name)))
    how = t.gettext("Read it all with {command}").format(command=f"!kb show {e.id}")
    lines.append(_plain(how))
    return _join(lines)


def hits(t: Translator, query: str, found: list[tuple[Entry, str, str]], withheld: int) -> Reply:
    """Search results: (entry, room name, snippet) best first, and how many were withheld."""
    if found:
        head = t.ngettext(
            "{n} entry matches “{query}”:", "{n} entries match “{query}”:", len(found)
        ).format(n=len(found), query=query)
    else:
        head = t.gettext("No entry you can see here matches “{query}”.").format(query=query)
    lines = [_plain("🔎 " + head)]
    for e, room, text in found:
        where = t.gettext("from {room}").format(room=room)
        kind = type_word(t, e.type)
        lines.append(
            (
                f"{e.id} · {e.title} ({kind}) — {where}\n    {text}",
                f"<b>{e.id}</b> · {escape(e.title)} ({escape(kind)}) — {escape(where)}"
                f"<br/><i>{escape(text)}</i>",
            )
        )
    if withheld:
        note = t.ngettext(
            "{n} more match is in a room not everyone here is a member of; search there.",
            "{n} more matches are in rooms not everyone here is a member of; search there.",
            withheld,
        ).format(n=withheld)
        lines.append(_plain(note))
    return _join(lines)


def listing(t: Translator, found: list[tuple[Entry, str]], total: int) -> Reply:
    """``!kb list``: (entry, room name), newest first; ``total`` before the cut."""
    if not found:
        return _plain(t.gettext("No entry you can see here fits that."))
    head = t.ngettext("{n} entry:", "{n} entries:", total).format(n=total)
    lines = [_plain("📚 " + head)]
    for e, room in found:
        where = t.gettext("from {room}").format(room=room)
        kind = type_word(t, e.type)
        lines.append(
            (
                f"{e.id} · {e.title} ({kind}) — {where}",
                f"<b>{e.id}</b> · {escape(e.title)} ({escape(kind)}) — {escape(where)}",
            )
        )
    if total > len(found):
        more = t.gettext("… and {n} more; narrow it with --type or --tag").format(
            n=total - len(found)
        )
        lines.append(_plain(more))
    return _join(lines)


def whole(t: Translator, e: Entry, room: str) -> Reply:
    """``!kb show``: the entry's facts and its text (up to ``SHOW_CHARS``)."""
    lines = [_heading(e), _plain(_facts(t, e)), _plain(t.gettext("from {room}").format(room=room))]
    text = e.text[:SHOW_CHARS]
    lines.append(
        (f"\n{text}", f"<blockquote>{escape(text).replace(chr(10), '<br/>')}</blockquote>")
    )
    if len(e.text) > SHOW_CHARS:
        cut = t.gettext("(the text goes on: {n} more characters)").format(
            n=t.number(len(e.text) - SHOW_CHARS)
        )
        lines.append(_plain(cut))
    if e.file:
        lines.append(
            _plain(t.gettext("The original file follows: {name}").format(name=e.file.name))
        )
    return _join(lines)


def done(text: str) -> Reply:
    """A one-line confirmation (``text`` already in the asker's language)."""
    return _plain("✅ " + text)
