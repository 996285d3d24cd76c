"""Provides ``TextIndex``: an in-memory full-text index whose query words match inside
words, across Nordic diacritics and compounds (``valg`` finds "kommunalvalget", ``ostersjo``
finds "Östersjö"), and ``fold``/``snippet``, which the library bot and the TUI share.

Nothing here touches a disk: the index lives in memory and is rebuilt from the sealed store.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

MIN_TERM = 3
"""A query word shorter than this (after folding) is refused: it would match almost anything."""
_LETTERS = (
    ("ø", "o"), ("æ", "ae"), ("œ", "oe"), ("đ", "d"), ("ð", "d"), ("þ", "th"), ("ł", "l"),
    ("ı", "i"),
)  # fmt: skip
"""Letters NFKD does not split into a base letter and a mark (casefold already made ß ss)."""
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""Combining marks (what NFKD splits off a letter with a diacritic)."""
_WORD = re.compile(r"\w+")
_NOT_WORD = frozenset(b" \x00\x01\x02")
"""The bytes around a whole word in the corpus (words are joined by single spaces)."""
_SPACE = re.compile(r"\s+")
TITLE_WEIGHT, TAG_WEIGHT = 3, 2
"""How much more a word of the title or tags weighs than one in the text."""
PER_WORD = 1e6
"""A document's rank counts each query word it matches as this much more than any score."""


def fold(text: str) -> str:
    """Lower case without diacritics: ``Østersjö`` → ``ostersjo``, ``Æble`` → ``aeble``."""
    text = text.casefold()
    if text.isascii():
        return text
    for letter, plain in _LETTERS:
        if letter in text:
            text = text.replace(letter, plain)
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))


def terms(text: str) -> list[str]:
    """The folded words of a text, in order."""
    return _WORD.findall(fold(text))


def query_terms(query: str) -> tuple[list[str], list[str]]:
    """(usable, too short) folded words of a query, without repeats."""
    words = list(dict.fromkeys(terms(query)))
    return [w for w in words if len(w) >= MIN_TERM], [w for w in words if len(w) < MIN_TERM]


def snippet(text: str, words: Iterable[str], width: int = 160) -> str:
    """About ``width`` characters of ``text`` around the first word containing one of the
    (folded) ``words``; the text's start when none is found."""
    wanted = [w for w in words if w]
    start = 0
    for m in _WORD.finditer(text):
        folded = fold(m.group())
        if any(w in folded for w in wanted):
            start = max(0, m.start() - width // 3)
            break
    piece = _SPACE.sub(" ", text[start : start + width]).strip()
    if start > 0:
        piece = "…" + piece
    if start + width < len(text):
        piece += "…"
    return piece


@dataclass(frozen=True)
class Hit:
    """One matching document: how many query words it matched and its score."""

    doc_id: str
    matched: int
    score: float


@dataclass
class _Corpus:
    """Every document's folded title, tags and text in one UTF-8 string, so finding a word
    part runs in C over one byte a letter: ``\x00title\x01tags\x02text`` per document, in
    ``ids`` order. (UTF-8 matches only at character boundaries: a whole character's bytes
    never occur inside another's.)"""

    ids: list[str] = field(default_factory=list)
    joined: bytes = b""
    starts: list[int] = field(default_factory=list)  # where each document begins
    ends: list[tuple[int, int, int]] = field(default_factory=list)  # its title, tags, text end

    @classmethod
    def of(cls, docs: dict[str, tuple[bytes, bytes, bytes]]) -> _Corpus:
        corpus = cls()
        parts: list[bytes] = []
        pos = 0
        for doc_id, (title, tags, text) in docs.items():
            corpus.ids.append(doc_id)
            corpus.starts.append(pos)
            title_end = pos + 1 + len(title)
            tags_end = title_end + 1 + len(tags)
            pos = tags_end + 1 + len(text)
            corpus.ends.append((title_end, tags_end, pos))
            parts += (b"\x00", title, b"\x01", tags, b"\x02", text)
        corpus.joined = b"".join(parts)
        return corpus

    def weights(self, word: str) -> dict[str, float]:
        """Each document containing ``part`` → its weight: occurrences in the title count
        ``TITLE_WEIGHT`` times, in the tags ``TAG_WEIGHT`` times; a whole word once more half."""
        found: dict[str, float] = {}
        part = word.encode()
        joined, count = self.joined, self.joined.count
        i = joined.find(part)
        while i != -1:
            n = bisect_right(self.starts, i) - 1
            title_end, tags_end, end = self.ends[n]
            start = self.starts[n]
            weight = (
                TITLE_WEIGHT * count(part, start, title_end)
                + TAG_WEIGHT * count(part, title_end, tags_end)
                + count(part, tags_end, end)
            )
            after = i + len(part)
            whole = joined[i - 1] in _NOT_WORD and (after >= end or joined[after] in _NOT_WORD)
            found[self.ids[n]] = weight * (1.5 if whole else 1.0)
            i = joined.find(part, end)
        return found


class TextIndex:
    """Documents (title, tags, text), folded, searched for folded word parts.

    A document matching more query words ranks first; among equals, the score sums per query
    word its idf times a saturated weight of its occurrences (in the title three times, in
    the tags twice; half again when the first one is a whole word, not part of a compound).
    """

    def __init__(self) -> None:
        self._docs: dict[str, tuple[bytes, bytes, bytes]] = {}
        self._corpus: _Corpus | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def add(self, doc_id: str, *, title: str, text: str, tags: Iterable[str] = ()) -> None:
        """Index (or re-index) one document."""
        self._docs[doc_id] = (_flat(title), _flat(" ".join(tags)), _flat(text))
        self._corpus = None

    def remove(self, doc_id: str) -> None:
        """Forget one document (nothing if it is not indexed)."""
        if self._docs.pop(doc_id, None) is not None:
            self._corpus = None

    def rank(self, query: list[str]) -> dict[str, float]:
        """Every document matching a folded ``query`` word → its rank: the number of query
        words it matches (the integer part, times ``PER_WORD``) plus its score."""
        if self._corpus is None:
            self._corpus = _Corpus.of(self._docs)
        total = max(len(self._docs), 1)
        rank: dict[str, float] = {}
        for part in query:
            per_doc = self._corpus.weights(part)
            if not per_doc:
                continue
            idf = math.log(1 + total / len(per_doc))
            for doc, w in per_doc.items():
                rank[doc] = rank.get(doc, 0.0) + PER_WORD + idf * w / (w + 1.2)
        return rank

    def search(
        self,
        query: list[str],
        allowed: Callable[[str], bool] | None = None,
        limit: int | None = 5,
    ) -> list[Hit]:
        """The best documents for the folded ``query`` words that ``allowed`` lets through."""
        rank = self.rank(query)
        if allowed is not None:
            rank = {d: r for d, r in rank.items() if allowed(d)}
        if limit is None:
            best = sorted(rank, key=rank.__getitem__, reverse=True)
        else:
            best = heapq.nlargest(limit, rank, key=rank.__getitem__)
        return [Hit(d, int(rank[d] // PER_WORD), rank[d] % PER_WORD) for d in best]


def _flat(text: str) -> bytes:
    """Folded words, one space between them, in UTF-8."""
    return " ".join(_WORD.findall(fold(text))).encode()
