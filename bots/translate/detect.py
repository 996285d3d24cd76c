"""Provides offline language detection (lingua) limited to the languages the organisation uses.

A detector is built once per language set, off the event loop, with its models preloaded;
detection itself takes well under a millisecond. Lingua runs in its low-accuracy mode (trigram
models only): about 14 MB for the Nordic languages and English instead of 143 MB, and on the
sentences of ``tests/bots/translate/test_detect.py`` just as right and as confident (14/14);
what it loses is accuracy on very short texts, which are never detected here (``is_short``).
Norwegian Bokmål and Nynorsk are close enough that lingua splits its confidence between them,
so they count as one family when deciding whether a detection is confident (and a room working
in one reads the other).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

MIN_LETTERS = 20
MIN_WORDS = 4
MIN_CONFIDENCE = 0.5
MIN_MARGIN = 0.2
FAMILIES = {"nn": "nb"}  # language → the family it is judged with
CACHE_SIZE = 2

_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_MXID = re.compile(r"[@#!][\w.=\-/]+:[\w.\-]+(?::\d+)?")
_CODE = re.compile(r"`[^`]*`|```.*?```", re.S)
_WORD = re.compile(r"\w+")


@cache
def detectable() -> frozenset[str]:
    """The ISO 639-1 codes lingua detects offline; a working language outside them (Nepali,
    Burmese) is simply not detected: its messages get no automatic prompt."""
    from lingua import Language

    return frozenset(lang.iso_code_639_1.name.lower() for lang in Language.all())


def family(code: str) -> str:
    """The family a language is judged in (``nn`` → ``nb``; others are their own)."""
    return FAMILIES.get(code, code)


def same_language(a: str, b: str) -> bool:
    """Whether a reader of ``a`` reads ``b`` (same code or same family)."""
    return family(a) == family(b)


def clean(text: str) -> str:
    """The prose of a message: without URLs, Matrix IDs, inline code and quoted lines."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(">")]
    text = "\n".join(lines)
    for pattern in (_CODE, _URL, _MXID):
        text = pattern.sub(" ", text)
    return text.strip()


def is_short(text: str) -> bool:
    """Too short to detect reliably: fewer than 20 letters or fewer than 4 words."""
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return True
    words = _WORD.findall(text)
    # Scripts written without spaces (Thai) have few "words"; count letters instead.
    return len(words) < MIN_WORDS and letters < MIN_LETTERS * 2


@dataclass(frozen=True)
class Detection:
    """What the detector thinks a text is written in, and how sure it is."""

    language: str
    confidence: float  # of the language's family, 0..1
    runner_up: str | None
    margin: float  # confidence minus the runner-up family's

    @property
    def confident(self) -> bool:
        """Sure enough to prompt translators (sv/da/nb are easily confused)."""
        return self.confidence >= MIN_CONFIDENCE and self.margin >= MIN_MARGIN


def judge(values: list[tuple[str, float]]) -> Detection | None:
    """A detection from (code, confidence) pairs, merging language families."""
    if not values:
        return None
    fam: dict[str, float] = {}
    best: dict[str, tuple[str, float]] = {}
    for code, value in values:
        f = family(code)
        fam[f] = fam.get(f, 0.0) + value
        if f not in best or value > best[f][1]:
            best[f] = (code, value)
    ranked = sorted(fam.items(), key=lambda kv: kv[1], reverse=True)
    top, top_value = ranked[0]
    if top_value <= 0.0:
        return None
    second, second_value = ranked[1] if len(ranked) > 1 else (None, 0.0)
    return Detection(
        language=best[top][0],
        confidence=round(top_value, 4),
        runner_up=best[second][0] if second else None,
        margin=round(top_value - second_value, 4),
    )


def _build(codes: frozenset[str]) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in sorted(codes)]
    builder = LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


class Detector:
    """Lingua detectors per language set, built lazily in a worker thread and cached."""

    def __init__(self) -> None:
        self._cache: dict[frozenset[str], Any] = {}
        self._lock = asyncio.Lock()
        self._building: set[asyncio.Task[Any]] = set()

    def ready(self, codes: frozenset[str]) -> bool:
        """Whether the detector for ``codes`` is built (detection needs no wait)."""
        return codes in self._cache

    def prepare(self, codes: frozenset[str]) -> None:
        """Build the detector for ``codes`` in the background (a language was added), so the
        next message is detected without waiting for that language's models to load."""
        codes = codes & detectable()
        if len(codes) < 2 or codes in self._cache:
            return
        task = asyncio.get_running_loop().create_task(self.get(codes))
        self._building.add(task)
        task.add_done_callback(self._built)

    def _built(self, task: asyncio.Task[Any]) -> None:
        self._building.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("building the language detector failed: %s", task.exception())

    async def close(self) -> None:
        """Stop background builds (the bot is closing)."""
        for task in list(self._building):
            task.cancel()
        await asyncio.gather(*self._building, return_exceptions=True)

    async def get(self, codes: frozenset[str]) -> Any:
        """The lingua detector for ``codes`` (two or more), building it off the loop once."""
        codes = codes & detectable()
        found = self._cache.get(codes)
        if found is not None:
            return found
        async with self._lock:
            found = self._cache.get(codes)
            if found is None:
                found = await asyncio.to_thread(_build, codes)
                while len(self._cache) >= CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[codes] = found
        return found

    async def detect(self, text: str, codes: frozenset[str]) -> Detection | None:
        """The language of ``text`` among ``codes`` (those lingua knows); None when nothing fits."""
        codes = codes & detectable()
        if len(codes) < 2:
            return Detection(next(iter(codes)), 1.0, None, 1.0) if codes else None
        detector = await self.get(codes)
        return detect_with(detector, text)


def detect_with(detector: Any, text: str) -> Detection | None:
    """Run a built lingua detector on ``text`` (synchronous; well under a millisecond)."""
    values = detector.compute_language_confidence_values(text)
    return judge([(v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values])
