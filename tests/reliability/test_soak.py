"""Soak with faults: commands across rooms while the runtime is SIGKILLed and Synapse restarts.

Afterwards every command is answered exactly once by each bot it addresses, replies keep the
order of the commands per room and bot, no member sees an undecryptable event, and no file in
the bots' or the homeserver's data directory holds the secret titles or chat in clear. The test
form is bounded (300 commands, 6 kills); ``make soak`` runs the long form with
``SAMVERKAN_SOAK_COMMANDS`` / ``SAMVERKAN_SOAK_KILLS`` (defaults there: 5,000 and 10) and
``SAMVERKAN_SOAK_FUZZ`` (default there: 10 — one fuzz case every 10 commands, rotating over
to-device garbage from an outsider, encrypted messages with garbage relations, and state
changes; 0 turns it off; see tests/reliability/fuzzmix.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.bots.test_exactly_once import UpProcess
from tests.reliability.fuzzmix import FuzzMixer
from tests.support import Member, OrgEnv
from tests.test_at_rest import files_containing

# command → which bots answer it
COMMANDS = {
    "!ping": ("events", "resources", "translate"),
    "!event list": ("events",),
    "!lang": ("translate",),
    "!pool show": ("resources",),
    "!event create": ("events",),  # with a secret title, looked for on disk afterwards
}


def replies(client: Member) -> list[tuple[str, str, str]]:
    """(room, event replied to, sender) of every reply the client decrypted, in timeline order."""
    out = []
    for room, ev in client.events:
        src = getattr(ev, "source", {})
        content = src.get("content")
        rel = content.get("m.relates_to") if isinstance(content, dict) else None
        reply = rel.get("m.in_reply_to") if isinstance(rel, dict) else None
        target = reply.get("event_id") if isinstance(reply, dict) else None
        if isinstance(target, str) and target:  # fuzzed messages carry garbage relations
            out.append((room, target, src.get("sender", "")))
    return out


async def soak(
    org_env: OrgEnv,
    make_user,
    member_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    commands: int,
    kills: int,
    rooms: int,
    members: int,
    fuzz_every: int = 0,
) -> None:
    people = [await make_user("soak") for _ in range(members)]
    names = ", ".join(f'"{u}"' for u, _ in people)
    body = "".join(
        f'\n[[working_group]]\nname = "Soak {i}"\nmembers = [{names}]\n' for i in range(rooms)
    )
    settings = org_env.write_org(body)
    config = tmp_path / "org.toml"
    config.write_text(
        org_env.org_text.replace("[homeserver]\n", f'[homeserver]\nurl = "{org_env.synapse.url}"\n')
    )
    assert not (await org_env.apply(settings)).failed
    room_ids = [await org_env.room_id(f"soak-{i}") for i in range(rooms)]
    clients: list[Member] = [await member_factory(u, pw) for u, pw in people]
    for c in clients:
        for r in room_ids:
            await c.wait_joined(r)
    bots = settings.org.bot_user_ids()
    up = UpProcess(org_env, config, tmp_path)
    await up.start()

    await clients[0].wait_all_joined(room_ids, set(bots.values()), 90)
    mixer = None
    if fuzz_every:
        mixer = FuzzMixer(org_env.synapse.url, list(bots.values()))
        await mixer.start(*await make_user("outsider"))

    rng = random.Random(1234)
    tag = uuid.uuid4().hex[:12]  # in secret titles and chat; must never reach a disk in clear
    sent: list[tuple[Member, str, str, str]] = []  # (client, room, event id, command)
    kill_at = sorted(rng.sample(range(5, commands - 5), kills))
    restart_synapse_at = commands // 2
    for i in range(commands):
        client = clients[i % len(clients)]
        room = room_ids[rng.randrange(rooms)]
        command = rng.choice(list(COMMANDS))
        body = command
        if command == "!event create":
            body = f'!event create "Soak {tag} {i}" 2031-05-04 10:00 Europe/Stockholm'
        sent.append((client, room, await client.send(room, body), command))
        if mixer and i % fuzz_every == 0:
            await mixer.one(client, room, [e for _c, r, e, _ in sent[-50:] if r == room])
        if i % 7 == 0:
            await client.send(room, f"chat {tag} {i}: nothing for the bots here")
        if i in kill_at:
            up.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            await up.proc.wait()  # type: ignore[union-attr]
            await up.start()
        if i == restart_synapse_at:
            # The runtime is (re)starting while Synapse goes away: start-up must wait it out.
            up.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            await up.proc.wait()  # type: ignore[union-attr]
            await up.start()
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            await org_env.synapse.stop()
            await org_env.synapse.start()
        await asyncio.sleep(rng.uniform(0, 0.05))

    try:

        def missing() -> list[str]:
            answered = {c.user_id: {(t, s) for _r, t, s in replies(c)} for c in clients}
            return [
                f"{command} {event_id} in {room} from {client.user_id}: no answer from {bot}"
                for client, room, event_id, command in sent
                for bot in COMMANDS[command]
                if (event_id, bots[bot]) not in answered[client.user_id]
            ]

        # Wait while the bots make progress (a long soak leaves a backlog); give up after
        # 120 s without a single new answer.
        left = len(missing())

        async def answered_or_stuck() -> bool:
            nonlocal left, stuck_since
            now = asyncio.get_running_loop().time()
            gaps = len(missing())
            if gaps < left:
                left, stuck_since = gaps, now
            return gaps == 0 or now - stuck_since > 120

        stuck_since = asyncio.get_running_loop().time()
        await clients[0].wait_until(answered_or_stuck, 24 * 3600)
        gaps = missing()

        assert not gaps, (
            f"{len(gaps)} unanswered: {gaps[:10]}; undecryptable: "
            f"{[(c.user_id, c.undecryptable()[:3]) for c in clients]}; client errors: "
            f"{[(c.user_id, c.errors[-3:]) for c in clients]}; fuzz mixed in: "
            f"{dict(mixer.outcomes) if mixer else None}"
        )

        await asyncio.sleep(3)  # room for late duplicates
        seen = {c.user_id: replies(c) for c in clients}
        counts = {c.user_id: Counter((t, s) for _r, t, s in seen[c.user_id]) for c in clients}
        for client, _room, event_id, command in sent:
            for bot in COMMANDS[command]:
                n = counts[client.user_id][(event_id, bots[bot])]
                assert n == 1, f"{command} {event_id} answered {n} times by {bot}"
        # Per room and bot, answers come in the order of the commands.
        for client in clients:
            for room in room_ids:
                mine = [e for c, r, e, _ in sent if c is client and r == room]
                wanted = set(mine)
                for bot in bots.values():
                    order = [
                        t
                        for r, t, s in seen[client.user_id]
                        if r == room and s == bot and t in wanted
                    ]
                    got = set(order)
                    assert order == [e for e in mine if e in got], (
                        f"{bot} answered out of order in {room}"
                    )
        for client in clients:
            assert not client.undecryptable(), client.undecryptable()[:3]
    finally:
        assert await up.stop() == 0
    # At rest: neither our data dir nor the homeserver's holds any of it in clear.
    for root in (org_env.home, org_env.synapse.data_dir):
        hits = files_containing(root, [tag.encode()])
        assert not hits, f"plaintext on disk: {hits[:5]}"


async def test_soak_with_kills_and_a_synapse_restart(
    org_env: OrgEnv, make_user, member_factory, tmp_path: Path
) -> None:  # noqa: E501
    await soak(
        org_env, make_user, member_factory, tmp_path, commands=300, kills=5, rooms=3, members=2
    )


@pytest.mark.slow
@pytest.mark.timeout(0)  # bounded by its own rule instead: 120 s without a new answer fails
async def test_soak_long(org_env: OrgEnv, make_user, member_factory, tmp_path: Path) -> None:
    await soak(
        org_env,
        make_user,
        member_factory,
        tmp_path,
        commands=int(os.environ.get("SAMVERKAN_SOAK_COMMANDS", "5000")),
        kills=int(os.environ.get("SAMVERKAN_SOAK_KILLS", "10")),
        rooms=5,
        members=3,
        fuzz_every=int(os.environ.get("SAMVERKAN_SOAK_FUZZ", "10")),
    )
