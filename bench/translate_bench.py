"""Provides the translate bot's benchmark: detection speed, added RSS, message-to-prompt latency.

Run: ``python -m bench.translate_bench [--rounds N]``. Detection runs with the languages of
the example organisation loaded. The bot's message-to-prompt round trip is reported as a
ratio to a bare nio client's round trip (a plain client answering in thread) measured in
the same run against the same embedded Synapse.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path

ORG_LANGUAGES = frozenset({"sv", "da", "nb", "nn", "en", "sw", "mk", "th", "ms", "tl"})
CORPUS = [
    "Vi behöver bestämma vem som håller i workshopen om lokal demokrati i Nairobi.",
    "Kan nogen sende referatet fra bestyrelsesmødet til os inden fredag?",
    "Kan noen sende referatet fra styremøtet til oss før fredag?",
    "Could someone send us the minutes from the board meeting before Friday?",
    "Tunahitaji kuamua nani ataongoza warsha kuhusu demokrasia ya mitaa.",
    "Треба да одлучиме кој ќе ја води работилницата за локална демократија.",
    "เราต้องตัดสินใจว่าใครจะเป็นผู้ดำเนินการเวิร์กช็อปเรื่องประชาธิปไตยท้องถิ่น",
    "Kita perlu memutuskan siapa yang akan mengendalikan bengkel demokrasi tempatan.",
    "Kailangan nating magpasya kung sino ang mangunguna sa workshop tungkol sa demokrasya.",
    "Partiet fastholder, at klimapolitikken skal være retfærdig for landdistrikterne.",
]
DANISH = [
    "Jeg synes, vi skal rykke mødet til næste uge, fordi mange er syge ({n}).",
    "Kan nogen sende referatet fra bestyrelsesmødet til os inden fredag? ({n})",
    "Partiet fastholder, at klimapolitikken skal være retfærdig for landdistrikterne ({n}).",
]


def rss_mb() -> float:
    """Current resident set size in MB (from /proc; peak from getrusage elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def detection() -> dict[str, float]:
    """Detector build time, added RSS, and per-message detection percentiles."""
    before = rss_mb()
    from bots.translate.detect import Detector, detect_with

    d = Detector()
    t0 = time.perf_counter()
    detector = await d.get(ORG_LANGUAGES)
    build_s = time.perf_counter() - t0
    times = []
    for i in range(2000):
        text = CORPUS[i % len(CORPUS)]
        t = time.perf_counter()
        detect_with(detector, text)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "build_s": build_s,
        "rss_added_mb": rss_mb() - before,
        "p50_ms": pct(times, 50),
        "p99_ms": pct(times, 99),
    }


async def round_trips(rounds: int) -> dict[str, list[float]]:
    """Bare-client echo round trips and bot message-to-prompt round trips, interleaved."""
    from nio import MatrixRoom, RoomMessageText

    from messenger.deploy.homeserver import EmbeddedSynapse, free_port, register_user
    from tests.support import Member, OrgEnv

    tmp = Path(tempfile.mkdtemp(prefix="translate-bench-"))
    hs = EmbeddedSynapse(tmp / "synapse", "localhost", free_port())
    await hs.start()
    members: list[Member] = []

    async def make_user(prefix: str) -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        user = await register_user(
            hs.url, hs.shared_secret, name, "pw-" + name, server_name="localhost"
        )
        return user, "pw-" + name

    async def member_factory(user_id: str, password: str) -> Member:
        m = await Member.login(hs.url, user_id, password, tmp / f"member-{len(members)}")
        members.append(m)
        return m

    env = OrgEnv(hs, tmp / "home", uuid.uuid4().hex[:8], make_user)
    try:
        settings, room, (alice, echo), rt = await env.room_with_bots(
            member_factory, members=2, bots=["translate"]
        )
        bot = settings.org.bot_user_ids()["translate"]
        ev = await alice.send(room, "!translator add da>sv")
        await alice.wait_reply(ev, sender=bot)

        async def on_text(r: MatrixRoom, e: RoomMessageText) -> None:
            if e.sender == alice.user_id and e.body.startswith("echo "):
                rel = {"rel_type": "m.thread", "event_id": e.event_id, "is_falling_back": True,
                       "m.in_reply_to": {"event_id": e.event_id}}  # fmt: skip
                await echo.send(r.room_id, "pong", **{"m.relates_to": rel})

        echo.client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
        for warm in range(2):  # keys shared, detector built
            ev = await alice.send(room, f"echo warm {warm}")
            await alice.wait_reply(ev, sender=echo.user_id)
            ev = await alice.send(room, DANISH[0].format(n=f"w{warm}"))
            await alice.wait_reply(ev, sender=bot)
        out: dict[str, list[float]] = {"bare": [], "bot": []}
        for n in range(rounds):
            t = time.perf_counter()
            ev = await alice.send(room, f"echo {n}")
            await alice.wait_reply(ev, sender=echo.user_id)
            out["bare"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            ev = await alice.send(room, DANISH[n % len(DANISH)].format(n=n))
            await alice.wait_reply(ev, sender=bot)
            out["bot"].append((time.perf_counter() - t) * 1000)
        return out
    finally:
        await env.close()
        for m in members:
            await m.close()
        await hs.stop()


async def main(rounds: int) -> None:
    """Measure and print."""
    det = await detection()
    print(f"Detection, {len(ORG_LANGUAGES)} languages loaded ({', '.join(sorted(ORG_LANGUAGES))})")
    print(f"  detector build (off the loop): {det['build_s']:.2f} s")
    print(f"  added RSS with models loaded:  {det['rss_added_mb']:.0f} MB")
    print(f"  per message: p50 {det['p50_ms']:.3f} ms, p99 {det['p99_ms']:.3f} ms")
    rt = await round_trips(rounds)
    bare, bot = rt["bare"], rt["bot"]
    print(f"Round trips on the embedded Synapse, {rounds} each, encrypted, interleaved")
    for name, values in (("bare nio client echo", bare), ("message → translation prompt", bot)):
        print(
            f"  {name:30s} p50 {statistics.median(values):7.1f} ms  p95 {pct(values, 95):7.1f} ms"
            f"  p99 {pct(values, 99):7.1f} ms"
        )
    print(f"  ratio bot/bare: p50 {statistics.median(bot) / statistics.median(bare):.2f}x, "
          f"p95 {pct(bot, 95) / pct(bare, 95):.2f}x")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak RSS of this process (bot, clients, detector): {peak:.0f} MB")


def run() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.rounds))


if __name__ == "__main__":
    run()
