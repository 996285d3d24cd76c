"""Provides the library benchmark: rebuilding the in-memory index of 10,000 entries from the
sealed store, searching it, and the ``!kb search`` round trip against ``!ping`` to the same bot.

Run: ``python -m bench.library_bench [--entries 10000] [--rounds 50]``. The entries are
generated multilingual texts (Swedish, Danish, Norwegian, English; compounds made of their
words). Targets: rebuild of 10,000 entries in a few seconds; ``!kb search`` p50 ≤ 1.2 × the
``!ping`` p50 of the same bot in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from nacl.pwhash.argon2id import MEMLIMIT_MIN, OPSLIMIT_MIN

from bench.common import bench_env, loadavg, pct, peak_rss_mb, summary
from bots.library import store as s
from bots.library.model import TYPES, Entry
from bots.library.shelf import Shelf
from crypto.vault import Vault
from messenger.fulltext import query_terms
from messenger.store import StateStore
from tests.support import Member

WORDS = {
    "sv": "val kommun förening frivillig samarbete östersjö miljö ungdom demokrati styrelse "
    "budget möte kampanj medlem partner utbildning rapport lärdom skola rättvisa".split(),
    "da": "valg kommune forening frivillig samarbejde østersø miljø ungdom demokrati bestyrelse "
    "budget møde kampagne medlem partner uddannelse rapport erfaring skole retfærdighed".split(),
    "nb": "valg kommune forening frivillig samarbeid østersjø miljø ungdom demokrati styre "
    "budsjett møte kampanje medlem partner utdanning rapport erfaring skole rettferdighet".split(),
    "en": "election municipality association volunteer cooperation baltic environment youth "
    "democracy board budget meeting campaign member partner training report lesson".split(),
}
SEARCHES = ["valg", "ostersjo", "frivillig", "kampanj", "ungdom demokrati", "rettferd"]


SYLLABLES = "ka ri so ve lo mi na te ul dra sken bor gå lö ny fjel strø ak in".split()


def vocabulary(rng: random.Random, n: int = 3000) -> list[str]:
    """``n`` made-up words of two to four syllables (the bulk of every text)."""
    return ["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(n)]


def entry_text(rng: random.Random, lang: str, bulk: list[str], n: int) -> tuple[str, str]:
    """A title and ``n`` words of text: made-up words (Zipf-distributed) and, one word in
    seven, one of three topic words of the entry's language, a fifth of them in compounds."""
    topics = rng.sample(WORDS[lang], 3)
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            w = rng.choice(topics)
            if rng.random() < 0.2:
                w = rng.choice(bulk[:200]) + w if rng.random() < 0.5 else w + rng.choice(topics)
        else:
            w = bulk[min(int(rng.paretovariate(1.0)) - 1, len(bulk) - 1)]
            w = bulk[rng.randrange(len(bulk))] if rng.random() < 0.5 else w
        out.append(w)
    title = " ".join([*topics[:2], rng.choice(bulk)]).capitalize()
    return title, " ".join(out).capitalize() + "."


def entries(count: int, rooms: list[str], author: str, words: int = 150) -> list[Entry]:
    """``count`` generated entries spread over ``rooms``."""
    rng = random.Random(7)
    bulk = vocabulary(rng)
    out = []
    for i in range(count):
        lang = list(WORDS)[i % len(WORDS)]
        title, text = entry_text(rng, lang, bulk, words)
        out.append(
            Entry(
                id=f"K{i + 1}",
                room=rooms[i % len(rooms)],
                title=title,
                type=TYPES[i % len(TYPES)],
                tags=[lang],
                lang=lang,
                text=text,
                author=author,
                created_ms=1_700_000_000_000 + i,
            )
        )
    return out


async def seed(store: StateStore, items: list[Entry]) -> None:
    """Write entries (and the ID counter) into a store, 1,000 per transaction."""
    for i in range(0, len(items), 1000):
        async with store.transaction() as tx:
            for e in items[i : i + 1000]:
                await s.save_entry(tx, e)
    async with store.transaction() as tx:
        await tx.put(s.META, "counters", {"K": len(items)})


async def offline(count: int) -> None:
    """Rebuild and in-memory search, without a homeserver."""
    with tempfile.TemporaryDirectory(prefix="library-bench-") as d:
        vault = Vault.create(
            Path(d) / "vault", "bench passphrase", opslimit=OPSLIMIT_MIN, memlimit=MEMLIMIT_MIN
        )
        store = await StateStore.open(Path(d) / "state.db", vault)
        items = entries(count, ["!a:localhost", "!b:localhost"], "@bench:localhost")
        t0 = time.perf_counter()
        await seed(store, items)
        seed_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        raw = await s.all_entries(store)
        read_s = time.perf_counter() - t0
        shelf = Shelf()
        times, cpu = [], []
        for _ in range(3):
            t0, c0 = time.perf_counter(), time.process_time()
            await shelf.load(store)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        await store.close()
    chars = sum(len(e.text) for e in raw)
    print(f"# {count:,} entries, {chars / count:.0f} characters each on average (load {loadavg()})")
    print(f"writing them sealed: {seed_s:.2f} s")
    print(f"reading and opening them from the sealed store: {read_s:.2f} s")
    print(
        f"index rebuild from the sealed store (read, open, parse, index): best {min(times):.2f} s"
        f" wall / {min(cpu):.2f} s CPU, worst {max(times):.2f} s wall of {len(times)}"
    )
    ms, cpu_ms = [], []
    for _ in range(40):
        for q in SEARCHES:
            t0, c0 = time.perf_counter(), time.process_time()
            shelf.index.rank(query_terms(q)[0])
            ms.append((time.perf_counter() - t0) * 1000)
            cpu_ms.append((time.process_time() - c0) * 1000)
    print(summary("in-memory search, every match ranked (wall)", ms))
    print(summary("in-memory search, every match ranked (CPU)", cpu_ms))
    for q in SEARCHES:
        n = len(shelf.index.rank(query_terms(q)[0]))
        print(f"  {q!r} matches {n:,} entries")
    print(f"peak RSS (this process): {peak_rss_mb():.0f} MB")


async def round_trip(member: Member, room_id: str, text: str, bot: str) -> float:
    """ms from sending ``text`` until the member decrypted the bot's answer."""
    t0 = time.perf_counter()
    sent = await member.send(room_id, text)
    await member.wait_reply(sent, sender=bot, timeout=60)
    return (time.perf_counter() - t0) * 1000


async def online(count: int, rounds: int) -> None:
    """``!kb search`` and ``!ping`` to the library bot holding ``count`` entries."""
    async with bench_env() as bench:
        org = bench.org()
        alice_id, alice_pw = await bench.user("alice")
        settings = org.write_org(
            f"""
            [[working_group]]
            name = "Nordic policy"
            members = ["{alice_id}"]
            """,
            enabled=["library"],
        )
        report = await org.apply(settings)
        assert not report.failed, report.failed
        room = await org.room_id("nordic-policy")
        alice = await bench.member(alice_id, alice_pw)
        await alice.wait_joined(room)
        runtime = await org.start_bots(settings)
        await runtime.wait_synced()
        bot = runtime.bots[0]
        await alice.wait_all_joined([room], {bot.user_id})
        await seed(bot.store, entries(count, [room], alice_id))
        await org.stop_bots()
        runtime = await org.start_bots(settings)  # a restart: the index is rebuilt from the store
        await runtime.wait_synced()
        bot = runtime.bots[0]
        await round_trip(alice, room, "!ping", bot.user_id)
        print(f"# the library bot restarted holding {count:,} entries")
        print(f"index rebuilt at start (bot.rebuild_s): {bot.rebuild_s or 0:.2f} s")
        results: dict[str, list[float]] = {"!ping": [], "!kb search": []}
        for q in SEARCHES[:2]:  # warm: members of the room read once
            await round_trip(alice, room, f"!kb search {q}", bot.user_id)
        for i in range(rounds):
            search = f"!kb search {SEARCHES[i % len(SEARCHES)]}"
            order = (("!ping", "!ping"), ("!kb search", search))
            for name, text in order if i % 2 == 0 else tuple(reversed(order)):
                results[name].append(await round_trip(alice, room, text, bot.user_id))
        await org.close()
        print(f"# encrypted round trips, {rounds} each, interleaved (load {loadavg()})")
        print(summary("!ping to the library bot (baseline)", results["!ping"]))
        print(summary("!kb search over all entries (top 5)", results["!kb search"]))
        for p in (50, 95):
            ratio = pct(results["!kb search"], p) / pct(results["!ping"], p)
            print(f"ratio search/ping p{p}: {ratio:.2f}")
        print(f"peak RSS (bot, clients, this process): {peak_rss_mb():.0f} MB")


async def main(count: int, rounds: int, only_offline: bool) -> None:
    await offline(count)
    if not only_offline:
        await online(count, rounds)


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--offline", action="store_true", help="no homeserver: rebuild, search")
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.rounds, args.offline))


if __name__ == "__main__":
    run()
