"""Provides the translate bot's records (rooms, glossary terms, memory, prompts) and pure logic."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from bots.translate.detect import same_language
from messenger.protocol.translation import GlossaryHit


def normalise(text: str) -> str:
    """Text as translation memory compares it: NFC, whitespace collapsed, trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


@dataclass
class RoomSettings:
    """A room's working languages (None: the organisation file's) and machine-translation opt-in."""

    languages: list[str] | None = None
    mt: bool = False


# -- volunteers -----------------------------------------------------------------------------


def volunteers_for(
    table: dict[str, list[tuple[str, str]]], source: str, targets: list[str]
) -> list[str]:
    """Volunteers who declared ``source>T`` for a target T (Norwegian counts as one)."""
    return sorted(
        u
        for u, ps in table.items()
        if any(
            same_language(a, source) and any(same_language(b, t) for t in targets) for a, b in ps
        )
    )


# -- glossary -------------------------------------------------------------------------------


@dataclass
class Term:
    """A glossary entry: the term and its approved renderings per language."""

    key: str
    term: str
    translations: dict[str, str] = field(default_factory=dict)

    def forms(self) -> list[str]:
        """Every written form that counts as this term in a message."""
        return [self.term, *self.translations.values()]

    def rendering(self, language: str) -> str:
        """The approved rendering in ``language`` (the term itself when none is defined)."""
        return self.translations.get(language, self.term)


def term_pattern(form: str) -> re.Pattern[str]:
    """Where a glossary form occurs in a text: as a whole word, any case (anywhere in a
    script written without spaces, or when the form itself starts or ends with a sign)."""
    escaped = re.escape(form)
    if form and not (form[0].isalnum() and form[-1].isalnum()) or _spaceless(form):
        return re.compile(escaped, re.I)
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.I)


def _spaceless(text: str) -> bool:
    """Whether the text uses a script written without spaces between words (Thai, Lao …)."""
    return any("\u0e00" <= ch <= "\u0eff" or "\u3040" <= ch <= "\u9fff" for ch in text)


def find_terms(terms: list[Term], text: str) -> list[Term]:
    """Glossary entries whose term or a rendering appears in ``text`` (whole words)."""
    return [t for t in terms if any(f and term_pattern(f).search(text) for f in t.forms())]


def glossary_hits(terms: list[Term]) -> list[GlossaryHit]:
    """The terms as a translation event's ``glossary_hits``."""
    return [GlossaryHit(term=t.term, translations=t.translations) for t in terms]


# -- translation memory ---------------------------------------------------------------------


@dataclass
class Memory:
    """A remembered translation: the text, who made it (a user or ``machine:<provider>``)."""

    text: str
    by: str | None = None
    machine: bool = False
    provider: str | None = None
    source_event: str | None = None

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> Memory:
        """A memory entry as stored."""
        return cls(
            text=raw["text"],
            by=raw.get("by"),
            machine=bool(raw.get("machine")),
            provider=raw.get("provider"),
            source_event=raw.get("source_event"),
        )

    def stored(self) -> dict[str, Any]:
        """The entry as stored."""
        return asdict(self)


# -- prompts --------------------------------------------------------------------------------


@dataclass
class Prompt:
    """What the bot knows of one message that needs translating, and of its prompt (if any)."""

    room_id: str
    thread_root: str
    text: str
    source: str
    confidence: float | None
    targets: list[str]
    translated: dict[str, str] = field(default_factory=dict)  # target → translator
    requested_by: str | None = None
    prompt_key: str | None = None  # outbox key of the prompt notice, once one was sent
    volunteers: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    drafts: dict[str, str] = field(default_factory=dict)  # machine drafts per target
    provider: str | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_stored(cls, raw: dict[str, Any]) -> Prompt:
        """A prompt record as stored (records from before a field existed get its default)."""
        return cls(
            room_id=raw["room_id"],
            thread_root=raw["thread_root"],
            text=raw["text"],
            source=raw["source"],
            confidence=raw.get("confidence"),
            targets=list(raw.get("targets", [])),
            translated=dict(raw.get("translated", {})),
            requested_by=raw.get("requested_by"),
            prompt_key=raw.get("prompt_key"),
            volunteers=list(raw.get("volunteers", [])),
            present=list(raw.get("present", [])),
            drafts=dict(raw.get("drafts", {})),
            provider=raw.get("provider"),
            notes=list(raw.get("notes", [])),
        )

    def stored(self) -> dict[str, Any]:
        """The record as stored."""
        return asdict(self)

    def carry_over(self, old: Prompt) -> None:
        """Asked again (e.g. answered from memory before): keep the old thread and history."""
        self.thread_root, self.prompt_key = old.thread_root, old.prompt_key
        self.volunteers, self.present = old.volunteers, old.present
        self.requested_by = old.requested_by
        self.translated = dict(old.translated)
        self.targets = list(dict.fromkeys([*old.targets, *self.targets]))

    def done(self) -> list[str]:
        """The targets translated so far, in the order asked."""
        return [t for t in self.targets if t in self.translated]
