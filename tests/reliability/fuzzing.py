"""Fuzzing helpers: raw client-server calls, seeded generators of hostile input, liveness checks."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from bots.runtime import Runtime
from tests.support import Member, OrgEnv, client_api

CALL_TIMEOUT_S = 30.0
PING_TIMEOUT_S = 45.0
JSON = Any
MemberFactory = Callable[[str, str], Awaitable[Member]]
MakeUser = Callable[[str], Awaitable[tuple[str, str]]]


# -- raw HTTP (tests.support.client_api) --------------------------------------------------

call = client_api


async def login(base_url: str, user_id: str, password: str) -> str:
    """A new device's access token for ``user_id``."""
    status, body = await call(
        base_url,
        "POST",
        "/_matrix/client/v3/login",
        body={
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
        },
    )
    assert status == 200, (status, body)
    return str(body["access_token"])


def txn() -> str:
    return "fz" + uuid.uuid4().hex


def q(s: str) -> str:
    return quote(s, safe="")


async def send_plain(
    base_url: str, token: str, room_id: str, content: JSON, event_type: str = "m.room.message"
) -> tuple[int, JSON]:
    """PUT /rooms/{room}/send/{type}/{txn}: an unencrypted event, as any server could forge."""
    path = f"/_matrix/client/v3/rooms/{q(room_id)}/send/{q(event_type)}/{txn()}"
    return await call(base_url, "PUT", path, token, content)


async def send_to_device(
    base_url: str, token: str, event_type: str, messages: JSON
) -> tuple[int, JSON]:
    """PUT /sendToDevice/{type}/{txn} with ``messages`` as given (any shape)."""
    path = f"/_matrix/client/v3/sendToDevice/{q(event_type)}/{txn()}"
    return await call(base_url, "PUT", path, token, {"messages": messages})


async def put_state(
    base_url: str, token: str, room_id: str, event_type: str, state_key: str, content: JSON
) -> tuple[int, JSON]:
    """PUT /rooms/{room}/state/{type}/{state_key}."""
    path = f"/_matrix/client/v3/rooms/{q(room_id)}/state/{q(event_type)}/{q(state_key)}"
    return await call(base_url, "PUT", path, token, content)


async def redact(base_url: str, token: str, room_id: str, event_id: str) -> tuple[int, JSON]:
    path = f"/_matrix/client/v3/rooms/{q(room_id)}/redact/{q(event_id)}/{txn()}"
    return await call(base_url, "PUT", path, token, {"reason": "fuzz"})


async def room_state(base_url: str, token: str, room_id: str) -> list[dict[str, Any]]:
    status, body = await call(
        base_url, "GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state", token
    )
    assert status == 200, (status, body)
    return list(body)


async def send_ciphertext_only(
    member: Member, room_id: str, event_type: str, content: JSON, clear: JSON = None
) -> tuple[int, JSON]:
    """Megolm-encrypt ``content`` with the member's client and PUT it with nothing in the clear
    (nio copies ``m.relates_to`` out of the ciphertext; here it stays inside, where the homeserver
    cannot check it). ``clear`` optionally sets a separate, visible ``m.relates_to``."""
    c = member.client
    room = c.rooms[room_id]
    if not room.members_synced:
        await asyncio.wait_for(c.joined_members(room_id), CALL_TIMEOUT_S)
    if c.olm is not None and c.olm.should_share_group_session(room_id):
        await asyncio.wait_for(
            c.share_group_session(room_id, ignore_unverified_devices=True), CALL_TIMEOUT_S
        )
    assert c.olm is not None
    encrypted = c.olm.group_encrypt(room_id, {"content": content, "type": event_type})
    if clear is not None:
        encrypted["m.relates_to"] = clear
    return await send_plain(
        str(c.homeserver), str(c.access_token), room_id, encrypted, "m.room.encrypted"
    )


# -- generators ----------------------------------------------------------------------------

WEIRD = ["\x00", "\u202e", "\u202c", "\u2066", "\u200b", "\ufeff", "\u0007", "𝕏", "\n", '"', "'"]


def garbage_text(rng: random.Random, max_len: int = 40) -> str:
    chars = [
        rng.choice(WEIRD) if rng.random() < 0.2 else chr(rng.randrange(32, 0x2FFF))
        for _ in range(rng.randrange(max_len + 1))
    ]
    return "".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF)


def garbage(rng: random.Random, depth: int = 2, canonical: bool = False) -> JSON:
    """Any JSON value: scalars of every type, nested lists and objects. ``canonical``: only what
    the homeserver accepts in clear events (no floats, integers within +-(2**53 - 1))."""
    kind = rng.randrange(9 if depth > 0 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2 or (kind == 3 and canonical):
        big = 2**53 - (1 if canonical else 0)
        return rng.choice([0, -1, big, -big, rng.randrange(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, -1e300, 1e-300])
    if kind in (4, 5):
        return garbage_text(rng)
    if kind == 6:
        return [garbage(rng, depth - 1, canonical) for _ in range(rng.randrange(4))]
    keys = ["body", "type", "event_id", "rel_type", "m.in_reply_to", "algorithm", "key", ""]
    return {
        rng.choice(keys) if rng.random() < 0.5 else garbage_text(rng, 8): garbage(
            rng, depth - 1, canonical
        )
        for _ in range(rng.randrange(5))
    }


def b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode().rstrip("=")


def fake_event_id(rng: random.Random) -> str:
    return "$" + b64(rng, 32).replace("/", "_").replace("+", "-")


# -- liveness ------------------------------------------------------------------------------


def bot_errors(caplog_records: list[logging.LogRecord]) -> list[str]:
    """ERROR-and-worse log lines from the bots and the messenger framework, for failure reasons."""
    out = []
    for r in caplog_records:
        if r.levelno >= logging.ERROR and r.name.split(".")[0] in {"bots", "messenger", "nio"}:
            line = f"{r.name}: {r.getMessage()}"
            if r.exc_info and r.exc_info[1] is not None:
                line += f" [{r.exc_info[0].__name__ if r.exc_info[0] else ''}: {r.exc_info[1]}]"
            out.append(line[:400])
    return out


def warnings_matching(caplog_records: list[logging.LogRecord], needle: str) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()}"[:300]
        for r in caplog_records
        if r.levelno >= logging.WARNING and needle in r.getMessage()
    ]


async def assert_alive(
    runtime: Runtime,
    rooms: dict[str, Member],
    records: list[logging.LogRecord],
    what: str,
    timeout: float = PING_TIMEOUT_S,
) -> None:
    """The runtime has not failed and every bot answers an encrypted ``!ping`` in every room."""
    reason = f"after {what}"
    assert not runtime.failed.is_set(), (
        f"the bot runtime failed {reason}; errors logged: {bot_errors(records)[-8:]}"
    )
    bots = {b.user_id for b in runtime.bots}
    pings = {room: await member.send(room, "!ping") for room, member in rooms.items()}

    async def wait(room: str, member: Member) -> set[str]:
        async def answered() -> bool:
            return bots <= {r["sender"] for r in member.replies_to(pings[room])}

        try:
            await member.wait_until(answered, timeout)
        except TimeoutError:
            pass
        return bots - {r["sender"] for r in member.replies_to(pings[room])}

    missing = await asyncio.gather(*(wait(room, m) for room, m in rooms.items()))
    silent = {room: sorted(m) for room, m in zip(rooms, missing, strict=True) if m}
    assert not silent, (
        f"!ping not answered within {timeout:.0f} s {reason} by {silent}; runtime failed: "
        f"{runtime.failed.is_set()}; errors logged: {bot_errors(records)[-8:]}"
    )


def reply_counts(member: Member, bots: set[str]) -> Counter[tuple[str, str]]:
    """(replied-to event, bot) → how many replies the member saw."""
    counts: Counter[tuple[str, str]] = Counter()
    for _room, ev in member.events:
        src = getattr(ev, "source", {})
        if src.get("sender") not in bots:
            continue
        content = src.get("content")
        rel = content.get("m.relates_to") if isinstance(content, dict) else None
        reply = rel.get("m.in_reply_to") if isinstance(rel, dict) else None
        target = reply.get("event_id") if isinstance(reply, dict) else None
        if isinstance(target, str):
            counts[(target, src["sender"])] += 1
    return counts


def assert_no_double_answers(members: list[Member], bots: set[str], events: set[str]) -> None:
    """No bot answered any of ``events`` more than once (as seen by any member)."""
    twice = {
        (m.user_id, e, b): n
        for m in members
        for (e, b), n in reply_counts(m, bots).items()
        if e in events and n > 1
    }
    assert not twice, f"answered more than once: {twice}"


# -- an organisation with two rooms ----------------------------------------------------------


async def two_rooms(
    env: OrgEnv, member_factory: MemberFactory
) -> tuple[list[str], Member, Member, Runtime]:
    """Two working groups with the same coordinator and member, bots running and joined.

    Returns (room IDs, coordinator, member, runtime)."""
    (cu, cpw), (mu, mpw) = await env.make_user("coord"), await env.make_user("member")
    groups = "".join(
        f'\n[[working_group]]\nname = "Fuzz {i}"\ncoordinators = ["{cu}"]\nmembers = ["{mu}"]\n'
        for i in range(2)
    )
    settings = env.write_org(groups)
    report = await env.apply(settings)
    assert not report.failed, report.failed
    rooms = [await env.room_id(f"fuzz-{i}") for i in range(2)]
    coord, member = await member_factory(cu, cpw), await member_factory(mu, mpw)
    runtime = await env.start_bots(settings)
    await runtime.wait_synced()
    bots = {b.user_id for b in runtime.bots}
    for c in (coord, member):
        await c.wait_all_joined(rooms, bots | {c.user_id}, 90)
    return rooms, coord, member, runtime
