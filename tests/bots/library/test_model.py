"""Who may see a library entry: the asker, every reader of the answer, the entry's scope (pure)."""

from __future__ import annotations

import pytest

from bots.library.model import Audience, Entry, readable_by_asker, visible

HOME = "example.org"
A, B = "!a:example.org", "!b:example.org"
ALICE, CAROL, DAVE = "@alice:example.org", "@carol:example.org", "@dave:example.org"
WANJIRU = "@wanjiru:partner.example"


def entry(**kw: object) -> Entry:
    fields = {"id": "K1", "room": A, "title": "T", "type": "guide", "text": "x", "author": ALICE}
    return Entry.model_validate({**fields, "created_ms": 0, **kw})


def ask(asker: str, room: str, readers: set[str] | None) -> Audience:
    return Audience(asker, room, None if readers is None else frozenset(readers), HOME)


IN_A = frozenset({ALICE, CAROL, DAVE})


@pytest.mark.parametrize(
    ("asker", "room", "readers", "joined", "scope", "seen"),
    [
        (ALICE, A, {CAROL}, IN_A, "room", True),  # its own room
        (CAROL, B, {DAVE}, IN_A, "room", True),  # every reader of B is in A
        (CAROL, B, {DAVE, WANJIRU}, IN_A, "room", False),  # one reader of B is not
        (CAROL, B, {DAVE}, frozenset({ALICE, DAVE}), "room", False),  # carol left A
        (CAROL, B, {DAVE}, None, "room", False),  # A's members unknown: hidden
        (CAROL, B, None, IN_A, "room", False),  # B's readers unknown: hidden
        (WANJIRU, B, set(), IN_A, "org", False),  # a partner asks: org-wide is not for them
        (CAROL, B, {WANJIRU}, frozenset(), "org", False),  # a partner reads: neither
        (CAROL, B, {DAVE}, frozenset(), "org", True),
        (WANJIRU, B, {CAROL}, frozenset(), "partners", True),
    ],
)
def test_visibility(
    asker: str,
    room: str,
    readers: set[str] | None,
    joined: frozenset[str] | None,
    scope: str,
    seen: bool,
) -> None:
    assert visible(entry(scope=scope), ask(asker, room, readers), joined) is seen


def test_removed_entries_are_never_visible() -> None:
    gone = entry(removed=True, scope="partners")
    assert not visible(gone, ask(ALICE, A, set()), IN_A)
    assert not readable_by_asker(gone, ask(ALICE, A, set()), IN_A)


def test_what_the_asker_alone_could_read_is_counted_not_shown() -> None:
    e = entry()
    audience = ask(DAVE, B, {CAROL})
    joined = frozenset({ALICE, DAVE})  # carol is not in A
    assert not visible(e, audience, joined)
    assert readable_by_asker(e, audience, joined)


def test_card_carries_an_excerpt_and_status() -> None:
    e = entry(text="y" * 5000, removed=True)
    card = e.card()
    assert card.status == "removed"
    assert len(card.excerpt) < 1300
    assert card.excerpt.endswith("…")
