"""The in-memory shelf against a real sealed store: rebuilt from it, sees a transaction's own
writes while it runs, and forgets them when the transaction is rolled back (no homeserver)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.library import store as s
from bots.library.model import Entry
from bots.library.shelf import Shelf
from messenger.fulltext import query_terms
from tests.bots.events.test_shape import open_store


def entry(n: int, text: str, **kw: object) -> Entry:
    return Entry(
        id=f"K{n}", room="!a:l", title=f"T{n}", type="guide", text=text, author="@a:l",
        created_ms=n, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def found(shelf: Shelf, words: str) -> list[str]:
    return [h.doc_id for h in shelf.index.search(query_terms(words)[0])]


async def test_rebuild_refresh_and_rollback(tmp_path: Path) -> None:
    store = await open_store(tmp_path)
    async with store.transaction() as tx:
        await s.save_entry(tx, entry(1, "Kommunalvalget i Aarhus"))
        await s.save_entry(tx, entry(2, "Borttagen text", removed=True))
    shelf = Shelf()
    assert await shelf.load(store) == 1
    assert found(shelf, "valg") == ["K1"]

    class Boom(Exception):
        pass

    async def rolled_back() -> None:
        async with store.transaction() as tx:
            await s.save_entry(tx, entry(3, "Ungdomsvalg"))
            shelf.touch("K3")
            await shelf.refresh(tx, settle=False)  # a search inside the batch sees it
            assert sorted(found(shelf, "valg")) == ["K1", "K3"]
            raise Boom

    with pytest.raises(Boom):
        await rolled_back()
    await shelf.refresh(store, settle=True)  # after the batch: as committed
    assert found(shelf, "valg") == ["K1"]
    assert "K3" not in shelf.entries

    async with store.transaction() as tx:
        await s.save_entry(tx, entry(1, "Ny text", removed=True))
        shelf.touch("K1")
    await shelf.refresh(store, settle=True)
    assert found(shelf, "valg") == []
    assert shelf.entries == {}
    await store.close()


def test_rooms_count_what_is_on_the_shelf() -> None:
    shelf = Shelf()
    shelf.put(entry(1, "a"))
    shelf.put(entry(2, "b"))
    shelf.put(entry(2, "b again"))  # re-put: still one
    assert shelf.rooms == {"!a:l": 2}
    shelf.put(entry(1, "a", removed=True))
    shelf.drop("K2")
    shelf.drop("K9")
    assert shelf.rooms == {}
    assert shelf.entries == {}
