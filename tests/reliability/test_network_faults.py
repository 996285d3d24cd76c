"""Network faults: a TCP proxy between the bots and Synapse stalls, drops and resets connections.

The bot runtime (events and resources bots) reaches Synapse only through ``TcpFaultProxy``; the
members' clients talk to Synapse directly. Under a seeded chaos schedule (100 commands over two
encrypted rooms) and under aimed faults — a reset after Synapse stored a reply and one in the
middle of its request, a drop in the middle of a /sync response, a reply whose answer is held
longer than the request timeout, a stall of everything longer than the /sync timeout, a storm of
resets (answered with backoff, not a hot loop) — every command is answered exactly once by each
bot it addresses, in order per room, and nobody sees an undecryptable event.

Two findings of this harness were fixed: a command was lost when the room lookup failed (now
the batch is retried), and the first /sync of a process had no client timeout at all (now
every sync is bounded).

One organisation (two rooms, two members, two bots) serves the whole module. Where a test needs
a timeout shorter than production's (60 s per request, 30 s + 15 s per /sync), it says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bots.runtime import Runtime, make_runtime
from messenger.deploy.homeserver import EmbeddedSynapse, register_user
from messenger.session.core import Session
from tests.reliability.tcp_proxy import TcpFaultProxy, chaos_schedule, kind_of
from tests.support import WAIT_S, Member, OrgEnv

SEED = 20261123
ROOMS = 2
SEND = r"^PUT \S*/send/m\.room\.encrypted/"
SYNC = r"^GET \S*/sync\?"
# command → which bots answer it
COMMANDS = {
    "!ping": ("events", "resources"),
    "!event list": ("events",),
    "!pool show": ("resources",),
}
BOTS = ["events", "resources"]


class Proxied:
    """The test Synapse as the bots see it: every client request goes to ``url`` (the proxy)."""

    def __init__(self, real: EmbeddedSynapse, url: str) -> None:
        self.real = real
        self.url = url

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@dataclass
class Net:
    """The module's organisation: bots behind the proxy, members direct."""

    proxy: TcpFaultProxy
    env: OrgEnv
    runtime: Runtime
    members: list[Member]
    rooms: list[str]
    bots: dict[str, str]  # name → user ID


@dataclass
class Sent:
    member: Member
    room: str
    event_id: str
    command: str


@pytest.fixture(scope="module")
async def net(
    synapse: EmbeddedSynapse, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Net]:
    tmp = tmp_path_factory.mktemp("netfaults")
    proxy = await TcpFaultProxy.to(synapse.url, seed=SEED).start()

    async def make_user(prefix: str = "user") -> tuple[str, str]:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        user_id = await register_user(
            synapse.url, synapse.shared_secret, name, f"pw-{name}", server_name="localhost"
        )
        return user_id, f"pw-{name}"

    env = OrgEnv(synapse, tmp / "home", uuid.uuid4().hex[:8], make_user)
    members: list[Member] = []
    try:
        people = [await make_user("net") for _ in range(2)]
        names = ", ".join(f'"{u}"' for u, _ in people)
        settings = env.write_org(
            "".join(
                f'\n[[working_group]]\nname = "Net {i}"\nmembers = [{names}]\n'
                for i in range(ROOMS)
            ),
            enabled=BOTS,
        )
        assert not (await env.apply(settings)).failed  # provisioning talks to Synapse directly
        rooms = [await env.room_id(f"net-{i}") for i in range(ROOMS)]
        for i, (user, pw) in enumerate(people):
            members.append(await Member.login(synapse.url, user, pw, tmp / f"member-{i}"))
        for m in members:
            for r in rooms:
                await m.wait_joined(r)
        dep = await env.open(settings)
        dep.synapse = Proxied(synapse, proxy.url)  # type: ignore[assignment]
        runtime = await env.start_bots(settings)
        await asyncio.wait_for(runtime.wait_synced(), 60)
        bots = {b.name: b.user_id for b in runtime.bots}

        await members[0].wait_all_joined(rooms, set(bots.values()), 60)

        net = Net(proxy, env, runtime, members, rooms, bots)
        # Each bot reads each room's organisation marker on its first command there.
        await answered_exactly_once(net, [await send(net, 0, r, "!ping") for r in rooms])
        yield net
    finally:
        await asyncio.wait_for(env.close(), 60)
        for m in members:
            await m.close()
        await proxy.close()


async def send(net: Net, who: int, room: str, command: str) -> Sent:
    m = net.members[who]
    return Sent(m, room, await m.send(room, command), command)


def missing(net: Net, sent: list[Sent]) -> list[str]:
    return [
        f"{s.command} {s.event_id} in {s.room}: no answer from {bot}"
        for s in sent
        for bot in COMMANDS[s.command]
        if not s.member.replies_to(s.event_id, sender=net.bots[bot])
    ]


async def answered_exactly_once(
    net: Net, sent: list[Sent], timeout: float = WAIT_S, settle: float = 1.5
) -> None:
    """Every command answered by each bot it addresses, once, in order; nothing undecryptable."""

    async def done() -> bool:
        return not missing(net, sent)

    with contextlib.suppress(TimeoutError):
        await net.members[0].wait_until(done, timeout)
    gaps = missing(net, sent)
    assert not gaps, f"{len(gaps)} unanswered: {gaps[:10]}"
    assert not net.runtime.failed.is_set(), "a bot task died"
    await asyncio.sleep(settle)  # room for late duplicates
    for s in sent:
        for bot in COMMANDS[s.command]:
            n = len(s.member.replies_to(s.event_id, sender=net.bots[bot]))
            assert n == 1, f"{s.command} {s.event_id} answered {n} times by {bot}"
    for m in net.members:
        for room in net.rooms:
            mine = [s.event_id for s in sent if s.member is m and s.room == room]
            for bot in net.bots.values():
                order = [
                    target
                    for r, ev in m.events
                    if r == room
                    for src in [getattr(ev, "source", {})]
                    if src.get("sender") == bot
                    for target in [reply_target(src)]
                    if target in mine
                ]
                assert order == [e for e in mine if e in order], f"{bot} out of order in {room}"
        assert not m.undecryptable(), m.undecryptable()[:3]


def reply_target(src: dict[str, Any]) -> str | None:
    rel = src.get("content", {}).get("m.relates_to", {})
    reply = rel.get("m.in_reply_to", {}) if isinstance(rel, dict) else {}
    return reply.get("event_id") if isinstance(reply, dict) else None


def short_timeouts(config: Any) -> Any:
    """nio's client config with requests timing out after 3 s (production: 60 s)."""
    return dataclasses.replace(config, request_timeout=3.0)


# -- the proxy itself (no homeserver) ----------------------------------------------------


async def echo_server() -> tuple[asyncio.Server, int]:
    async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await r.read(1024):
                w.write(data)
                await w.drain()
        w.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_proxy_passes_stalls_drops_and_resets() -> None:
    server, port = await echo_server()
    proxy = await TcpFaultProxy("127.0.0.1", port).start()
    try:
        r, w = await asyncio.open_connection("127.0.0.1", proxy.listen_port)
        w.write(b"hello")
        assert await asyncio.wait_for(r.read(5), 5) == b"hello"

        proxy.set_mode("stall")
        w.write(b"held")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(r.read(4), 0.5)
        proxy.set_mode("pass")
        assert await asyncio.wait_for(r.readexactly(4), 5) == b"held"

        proxy.set_mode("drop")  # FIN: a clean end of stream
        assert await asyncio.wait_for(r.read(10), 5) == b""
        w.close()

        proxy.set_mode("pass")
        r, w = await asyncio.open_connection("127.0.0.1", proxy.listen_port)
        w.write(b"x")
        assert await asyncio.wait_for(r.read(1), 5) == b"x"
        proxy.set_mode("reset")  # RST: the reader fails
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(r.read(10), 5)
        w.close()
        assert proxy.cuts[("drop", "idle")] == 1
        assert proxy.cuts[("reset", "idle")] == 1

        proxy.set_mode("pass")
        proxy.arm(r"^PUT /send/", "reset", when="response")
        r, w = await asyncio.open_connection("127.0.0.1", proxy.listen_port)
        w.write(b"PUT /send/1 HTTP/1.1\r\n\r\n")  # reaches the upstream; its answer does not
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(r.read(100), 5)
        w.close()
        assert proxy.cuts[("reset", "send")] == 1
        assert proxy.requests == ["PUT /send/1"]
    finally:
        await proxy.close()
        server.close()


def test_chaos_schedule_is_seeded_and_mixes_every_fault() -> None:
    a, b = chaos_schedule(7, 20), chaos_schedule(7, 20)
    assert a == b
    assert a != chaos_schedule(8, 20)
    assert {s.mode for s in a} == {"pass", "stall", "drop", "reset"}
    assert a[-1].mode == "pass"
    assert sum(s.seconds for s in a) >= 20
    assert kind_of("GET /_matrix/client/v3/sync?since=x") == "sync"
    assert kind_of("PUT /_matrix/client/v3/rooms/!r/send/m.room.encrypted/t1") == "send"


# -- the bots behind the proxy ----------------------------------------------------------


async def test_chaos_every_command_answered_exactly_once(net: Net) -> None:
    rng = random.Random(SEED)
    schedule = chaos_schedule(SEED, 12)
    plan = [(i % 2, rng.choice(net.rooms), rng.choice(list(COMMANDS))) for i in range(100)]
    pauses = [rng.uniform(0.0, 0.15) for _ in plan]
    loop = asyncio.get_running_loop()
    played_once = asyncio.Event()
    sent: list[Sent] = []

    async def chaos() -> None:  # the schedule, over and over while commands are being sent
        while True:
            await net.proxy.run(schedule)
            played_once.set()

    async def member(who: int) -> None:  # each member sends its commands in order
        for (w, room, command), pause in zip(plan, pauses, strict=True):
            if w == who:
                sent.append(await send(net, who, room, command))
                await asyncio.sleep(pause)

    before = sum(net.proxy.cuts.values())
    t0 = loop.time()
    faults = asyncio.create_task(chaos())
    try:
        await asyncio.gather(member(0), member(1))
        t_sent = loop.time()
        await played_once.wait()
    finally:
        faults.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await faults
    t_calm = loop.time()
    await answered_exactly_once(net, sent, timeout=60, settle=0)
    print(
        f"chaos: 100 commands sent in {t_sent - t0:.1f} s under faults {dict(net.proxy.cuts)}; "
        f"all answered {loop.time() - t_calm:.1f} s after the faults stopped"
    )
    await answered_exactly_once(net, sent, timeout=0)  # and, a moment later, exactly once
    assert sum(net.proxy.cuts.values()) - before >= 6, net.proxy.cuts
    assert {kind for _how, kind in net.proxy.cuts} >= {"sync", "send"}, net.proxy.cuts


async def test_a_reset_storm_is_met_with_backoff(net: Net) -> None:
    before = net.proxy.connections
    net.proxy.max_cut, max_cut = 0, net.proxy.max_cut
    net.proxy.set_mode("reset")  # for 3 s, every connection is reset on its first byte
    try:
        await asyncio.sleep(3)
    finally:
        net.proxy.set_mode("pass")
        net.proxy.max_cut = max_cut
    made = net.proxy.connections - before
    # nio retries a request twice at once, then the sync loop backs off (0.5 s, 1 s, 2 s …):
    # a handful of connections per bot, not a hot loop of thousands.
    print("connections during a 3 s reset storm:", made)
    assert 0 < made <= 40 * len(net.bots), made
    command = await send(net, 0, net.rooms[0], "!ping")
    await answered_exactly_once(net, [command])


async def test_reset_while_a_reply_is_sent_does_not_duplicate_it(net: Net) -> None:
    room = net.rooms[1]
    # Each pong reaches Synapse, then the connection is reset before the bot hears back: the
    # retry carries the same transaction ID, and Synapse answers with the event it stored.
    after_store = net.proxy.arm(SEND, "reset", when="response", times=3)
    first = await send(net, 0, room, "!ping")
    await answered_exactly_once(net, [first], settle=0)
    # Each pong is cut off in the middle of its request: Synapse never sees a whole one.
    mid_request = net.proxy.arm(SEND, "reset", when="request", after=300, times=3)
    second = await send(net, 1, room, "!ping")
    await answered_exactly_once(net, [first, second])
    assert after_store.hits == 3
    assert mid_request.hits == 3
    assert after_store.hit_requests
    for request in after_store.hit_requests:  # the retry reused the transaction ID
        assert net.proxy.requests.count(request) >= 2, request


async def test_drop_in_the_middle_of_a_sync_response(net: Net) -> None:
    room = net.rooms[1]
    rule = net.proxy.arm(SYNC, "drop", when="response", after=400, times=len(net.bots))
    net.proxy.set_mode("drop")  # end the long-polls in flight: their successors meet the rule
    net.proxy.set_mode("pass")

    async def armed() -> bool:
        return rule.times == 0

    await net.members[0].wait_until(armed, 10)
    command = await send(net, 0, room, "!ping")
    await answered_exactly_once(net, [command])
    assert rule.hits >= 1, "no /sync response was cut"


async def test_reply_held_longer_than_the_request_timeout(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production requests time out after 60 s; 3 s here, so a 5 s hold outlasts it.
    for bot in net.runtime.bots:
        client = bot.session.client
        monkeypatch.setattr(client, "config", short_timeouts(client.config))
    abandoned = net.proxy.abandoned_in_stall
    rule = net.proxy.arm(SEND, "hold", when="response", seconds=5, times=1)
    first = await send(net, 0, net.rooms[0], "!ping")
    await answered_exactly_once(net, [first], settle=0)

    async def held_out() -> bool:  # the held answer finally comes (to a closed connection)
        return not net.proxy.held() and rule.hits == 1

    await net.members[0].wait_until(held_out, 15)
    second = await send(net, 1, net.rooms[0], "!ping")
    await answered_exactly_once(net, [first, second])
    assert net.proxy.abandoned_in_stall > abandoned, "the bot never gave up on the held request"
    assert net.proxy.requests.count(rule.hit_requests[0]) >= 2
    for bot in net.runtime.bots:
        assert not await bot.store.pending(), f"{bot.name} still has queued messages"


@pytest.mark.slow  # ≥ 18 s, and timing-sensitive on a loaded machine: `make soak` runs it
async def test_stall_longer_than_the_sync_timeout(
    net: Net, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A /sync long-poll waits 30 s and nio gives up 15 s after that; here it polls for 0.1 s,
    # so nio gives up after 15.1–16.1 s and an 18 s stall of every connection outlasts it.
    original = Session.sync_once

    async def short_polls(self: Session, handler: Any, timeout_ms: int = 0) -> None:
        await original(self, handler, timeout_ms=100)  # the running loops call it anew

    monkeypatch.setattr(Session, "sync_once", short_polls)
    warm = await send(net, 0, net.rooms[1], "!ping")  # every bot now polls with the short timeout
    await answered_exactly_once(net, [warm], settle=0)
    abandoned = net.proxy.abandoned_in_stall
    stall = asyncio.create_task(net.proxy.stall_for(18))
    await asyncio.sleep(0.5)
    sent = [await send(net, i % 2, room, "!ping") for i, room in enumerate(net.rooms)]
    await stall
    await answered_exactly_once(net, [warm, *sent])
    assert net.proxy.abandoned_in_stall > abandoned, "no bot gave up on a stalled connection"


class HarnessError(Exception):
    """The fault was not injected as planned: a broken test, not a finding (never xfailed)."""


async def until(net: Net, ok: Any, what: str, timeout: float = 10) -> None:
    async def pred() -> bool:
        return bool(ok())

    try:
        await net.members[0].wait_until(pred, timeout)
    except TimeoutError:
        raise HarnessError(what) from None


async def test_command_survives_a_failed_room_lookup(net: Net) -> None:
    room = net.rooms[0]
    for bot in net.runtime.bots:  # as if the bot had never looked this room up (just joined)
        bot.session.state.forget(room)
        await bot.store.delete("rooms", room)
    marker = net.proxy.arm(
        rf"^GET \S*/rooms/(!|%21){re.escape(room[1:])}/state/org\.samverkan\.room",
        "reset",
        when="request",
        times=10**6,
    )
    command = await send(net, 0, room, "!ping")
    try:  # every bot handles the command while the lookup fails (nio tries 3 times)
        await until(net, lambda: marker.hits >= 3 * len(net.bots), "no lookup was reset")
    finally:
        net.proxy.disarm(marker)
    await answered_exactly_once(net, [command], timeout=6, settle=0)


async def test_a_stalled_first_sync_is_given_up_and_retried(net: Net) -> None:
    await net.env.stop_bots()
    # A restart's first sync resumes from the stored token and returns at once (no timeout).
    rule = net.proxy.arm(SYNC + r"(?!\S*timeout=)", "hold", when="request", times=1)
    assert net.env.deployment is not None
    runtime = await make_runtime(net.env.deployment)
    configs = [bot.session.client.config for bot in runtime.bots]
    for bot in runtime.bots:
        bot.session.client.config = short_timeouts(bot.session.client.config)
    net.env.runtime = net.runtime = runtime
    runtime.start()
    try:
        await until(net, lambda: rule.hits == 1, "no first sync was held")
        command = await send(net, 0, net.rooms[0], "!ping")
        await answered_exactly_once(net, [command], timeout=8, settle=0)
    finally:
        net.proxy.disarm(rule)
        for bot, config in zip(runtime.bots, configs, strict=True):
            bot.session.client.config = config
