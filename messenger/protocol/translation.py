"""Provides the translate bot's structured content (``org.samverkan.translation``).

A *prompt* asks volunteers to translate one message; a *translation* carries an answer
(a volunteer's, a reused one from translation memory, or a machine translation). Both name
the source event, so the TUI's "untranslated" view can pair them: a source event whose
latest payload has ``status == "prompted"`` still waits for a translator.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field

from messenger.protocol.base import Structured


class GlossaryHit(BaseModel):
    """A glossary term found in a message, with the organisation's approved renderings."""

    term: str
    translations: dict[str, str] = Field(default_factory=dict)  # language code → rendering


class Translation(Structured):
    """A translation prompt or a translation of one message."""

    KEY: ClassVar[str] = "org.samverkan.translation"
    kind: Literal["prompt", "translation"]
    status: Literal["prompted", "translated"]
    source_event_id: str
    source_language: str
    target_languages: list[str] = Field(default_factory=list)
    translated_languages: list[str] = Field(default_factory=list)
    target_language: str | None = None  # on a translation: the language it is in
    volunteers: list[str] = Field(default_factory=list)  # who declared a matching pair
    translator: str | None = None  # the volunteer (or "machine:<provider>")
    machine: bool = False
    provider: str | None = None
    reused: bool = False  # taken from translation memory
    requested_by: str | None = None  # who asked with !translate (None: detected)
    confidence: float | None = None  # detector confidence in source_language
    glossary_hits: list[GlossaryHit] = Field(default_factory=list)


class TranslationSettings(Structured):
    """A room's translation settings as the bot answers ``!lang`` and ``!mt``."""

    KEY: ClassVar[str] = "org.samverkan.translation_settings"
    languages: list[str]
    machine_translation: bool = False
    provider: str | None = None
