"""The state store's lock: a read inside a transaction, in the transaction's own task, reads
it instead of waiting for it forever; a nested transaction is refused without undoing the
outer one; other tasks still wait for the transaction to end (no homeserver needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from messenger.store import StateStore
from tests.messenger.test_store_schema import vault


async def test_a_read_inside_a_transaction_reads_it(tmp_path: Path) -> None:
    s = await StateStore.open(tmp_path / "state.db", vault(tmp_path))
    try:
        async with asyncio.timeout(5), s.transaction() as tx:  # (same task: no wait_for)
            await tx.put("ns", "k", {"v": 1})
            # e.g. a helper that reads through the store, not the Tx it was not given
            got = await s.get("ns", "k")
            listed = await s.items("ns")
        assert got == {"v": 1}
        assert listed == [("k", {"v": 1})]
    finally:
        await s.close()


async def test_a_nested_transaction_is_refused_and_the_outer_one_kept(tmp_path: Path) -> None:
    s = await StateStore.open(tmp_path / "state.db", vault(tmp_path))
    try:
        async with asyncio.timeout(5), s.transaction() as tx:
            await tx.put("ns", "outer", 1)
            with pytest.raises(RuntimeError, match="already open"):
                await s.put("ns", "inner", 2)
            await tx.put("ns", "after", 3)
        assert await s.items("ns") == [("outer", 1), ("after", 3)]
    finally:
        await s.close()


async def test_other_tasks_wait_for_the_transaction(tmp_path: Path) -> None:
    s = await StateStore.open(tmp_path / "state.db", vault(tmp_path))
    try:
        await s.put("ns", "k", 0)
        seen: list[object] = []
        async with s.transaction() as tx:
            await tx.put("ns", "k", 1)
            other = asyncio.create_task(s.get("ns", "k"))
            await asyncio.sleep(0.05)
            assert not other.done()  # it waits: it never sees a transaction half done
            await tx.put("ns", "k", 2)
        seen.append(await other)
        assert seen == [2]
    finally:
        await s.close()
