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
from collections import Counter
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
class _Vocabulary:
    """Every indexed word, joined by newlines so a substring search runs in C."""

    words: list[str] = field(default_factory=list)
    joined: str = ""
    starts: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, words: Iterable[str]) -> _Vocabulary:
        ordered = sorted(words)
        starts, pos = [], 0
        for w in ordered:
            starts.append(pos)
            pos += len(w) + 1
        return cls(ordered, "\n".join(ordered), starts)

    def containing(self, part: str) -> set[str]:
        """The words that contain ``part``."""
        found: set[str] = set()
        i = self.joined.find(part)
        while i != -1:
            n = bisect_right(self.starts, i) - 1
            found.add(self.words[n])
            i = self.joined.find(part, self.starts[n] + len(self.words[n]))
        return found


class TextIndex:
    """Documents (title, tags, text) → weighted word postings; search by folded substrings.

    A document matching more query words ranks first; among equals, the score sums per query
    word its idf times a saturated weight of the words containing it (title words count
    three times, tags twice; a whole-word match more than a part of a compound).
    """

    def __init__(self) -> None:
        self._postings: dict[str, dict[str, int]] = {}
        self._docs: dict[str, list[str]] = {}
        self._vocab: _Vocabulary | None = None
        self._cache: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def add(self, doc_id: str, *, title: str, text: str, tags: Iterable[str] = ()) -> None:
        """Index (or re-index) one document."""
        if doc_id in self._docs:
            self.remove(doc_id)
        weights: Counter[str] = Counter(terms(text))
        for word in terms(" ".join(tags)):
            weights[word] += TAG_WEIGHT
        for word in terms(title):
            weights[word] += TITLE_WEIGHT
        known = len(self._postings)
        posting_of = self._postings.setdefault
        for word, weight in weights.items():
            posting_of(word, {})[doc_id] = weight
        if len(self._postings) != known:
            self._vocab = None
        self._docs[doc_id] = list(weights)
        self._cache.clear()

    def remove(self, doc_id: str) -> None:
        """Forget one document (nothing if it is not indexed)."""
        for word in self._docs.pop(doc_id, []):
            posting = self._postings.get(word)
            if posting is None:
                continue
            posting.pop(doc_id, None)
            if not posting:
                del self._postings[word]
                self._vocab = None
        self._cache.clear()

    def _words_containing(self, part: str) -> set[str]:
        found = self._cache.get(part)
        if found is None:
            if self._vocab is None:
                self._vocab = _Vocabulary.of(self._postings)
            found = self._cache[part] = self._vocab.containing(part)
        return found

    def rank(self, query: list[str]) -> dict[str, float]:
        """Every document matching a folded ``query`` word → its rank: the number of query
        words it matches (the integer part, times ``PER_WORD``) plus its score."""
        total = max(len(self._docs), 1)
        rank: dict[str, float] = {}
        for part in query:
            words = self._words_containing(part)
            per_doc: dict[str, float]
            if len(words) == 1 and part in words:  # one whole word: its posting as it is
                per_doc = {d: w * 1.5 for d, w in self._postings[part].items()}
            else:
                per_doc = {}
                for word in words:
                    whole = 1.5 if word == part else 1.0
                    for doc, n in self._postings[word].items():
                        per_doc[doc] = per_doc.get(doc, 0.0) + n * whole
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
