"""Fuzz the to-device channel: an outsider sends every type and shape of to-device event to the
bots' devices (and ``*``); after each batch the runtime is alive and every bot answers in every
room, nothing is answered twice, and a restart with garbage waiting in the inbox still starts."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
import vodozemac

from bots.runtime import Runtime
from tests.reliability.fuzzing import (
    MakeUser,
    MemberFactory,
    assert_alive,
    assert_no_double_answers,
    b64,
    call,
    fake_event_id,
    garbage,
    garbage_text,
    login,
    send_to_device,
)
from tests.support import OrgEnv

SEED = 1313
CASES = 120
BATCH = 30
OLM = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"
VERIFICATION = ["request", "ready", "start", "accept", "key", "mac", "cancel", "done"]


class Target:
    """A bot device: user, device ID, Curve25519 key."""

    def __init__(self, user_id: str, device_id: str, curve: str) -> None:
        self.user_id, self.device_id, self.curve = user_id, device_id, curve


def targets_of(runtime: Runtime) -> list[Target]:
    out = []
    for bot in runtime.bots:
        olm = bot.session.client.olm
        assert olm is not None
        out.append(
            Target(bot.user_id, bot.session.device_id, olm.account.identity_keys["curve25519"])
        )
    return out


class Outsider:
    """An account sharing no room with the bots, with a real Olm account of its own."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.account = vodozemac.Account()

    async def real_olm(self, t: Target, plaintext: bytes) -> dict[str, Any] | None:
        """A genuine Olm pre-key message to ``t`` carrying ``plaintext`` (whatever it is)."""
        status, body = await call(
            self.url,
            "POST",
            "/_matrix/client/v3/keys/claim",
            self.token,
            {"one_time_keys": {t.user_id: {t.device_id: "signed_curve25519"}}},
        )
        keys = (body.get("one_time_keys", {}) if isinstance(body, dict) else {}).get(t.user_id, {})
        key_obj = next(iter(keys.get(t.device_id, {}).values()), None)
        if status != 200 or not isinstance(key_obj, dict):
            return None
        session = self.account.create_outbound_session(
            vodozemac.Curve25519PublicKey.from_base64(t.curve),
            vodozemac.Curve25519PublicKey.from_base64(key_obj["key"]),
        )
        kind, ct = session.encrypt(plaintext).to_parts()
        return {
            "algorithm": OLM,
            "sender_key": self.account.curve25519_key.to_base64(),
            "ciphertext": {
                t.curve: {"type": kind, "body": base64.b64encode(ct).decode().rstrip("=")}
            },
        }


def olm(t: Target, rng: random.Random, kind: Any, body: Any, sender_key: Any = None) -> Any:
    return {
        "algorithm": OLM,
        "sender_key": b64(rng, 32) if sender_key is None else sender_key,
        "ciphertext": {t.curve: {"type": kind, "body": body}},
    }


def shapes(rng: random.Random, t: Target, room_id: str) -> list[Callable[[], tuple[str, Any]]]:
    """Every kind of to-device event, each a thunk giving (type, content)."""
    enc = "m.room.encrypted"

    def g(d: int = 2) -> Any:
        return garbage(rng, d)

    return [
        # The reproduction: a random pre-key body from a random sender key.
        lambda: (enc, olm(t, rng, 0, b64(rng, rng.randrange(60, 400)))),
        lambda: (enc, olm(t, rng, 1, b64(rng, rng.randrange(60, 400)))),
        lambda: (
            enc,
            olm(
                t, rng, rng.choice([0, 1]), base64.b64encode(b"\x03" + rng.randbytes(150)).decode()
            ),
        ),
        lambda: (enc, olm(t, rng, rng.choice(["0", 2, -1, None, 1.5, [], {}]), g())),
        lambda: (enc, olm(t, rng, 0, g(), sender_key=g())),
        lambda: (enc, olm(t, rng, 0, "not base64 !!!" + garbage_text(rng))),
        lambda: (enc, olm(t, rng, 0, b64(rng, 45_000))),  # huge
        lambda: (
            enc,
            {k: v for k, v in olm(t, rng, 0, b64(rng, 90)).items() if rng.random() < 0.5},
        ),
        lambda: (enc, {"algorithm": OLM, "sender_key": b64(rng, 32), "ciphertext": g()}),
        lambda: (
            enc,
            {
                "algorithm": OLM,
                "sender_key": b64(rng, 32),
                "ciphertext": {b64(rng, 32): {"type": 0, "body": b64(rng, 99)}},
            },
        ),
        lambda: (
            enc,
            {
                "algorithm": MEGOLM,
                "sender_key": b64(rng, 32),
                "session_id": g(),
                "ciphertext": g(),
                "device_id": g(),
            },
        ),
        lambda: (enc, {"algorithm": rng.choice([g(), "m.unknown", "", None]), "ciphertext": g()}),
        lambda: (enc, g(1)),
        lambda: (enc, {}),
        lambda: (
            "m.room_key",
            {
                "algorithm": MEGOLM,
                "room_id": rng.choice([room_id, g()]),
                "session_id": b64(rng, 32),
                "session_key": rng.choice([b64(rng, 200), g()]),
            },
        ),
        lambda: (
            "m.forwarded_room_key",
            {
                "algorithm": rng.choice([MEGOLM, g()]),
                "room_id": room_id,
                "sender_key": b64(rng, 32),
                "session_id": g(),
                "session_key": b64(rng, 220),
                "sender_claimed_ed25519_key": g(),
                "forwarding_curve25519_key_chain": g(),
            },
        ),
        lambda: (
            "m.room_key_request",
            {
                "action": rng.choice(["request", "request_cancellation", g()]),
                "requesting_device_id": g(),
                "request_id": g(),
                "body": rng.choice(
                    [
                        g(),
                        {
                            "algorithm": MEGOLM,
                            "room_id": room_id,
                            "sender_key": t.curve,
                            "session_id": b64(rng, 32),
                        },
                    ]
                ),
            },
        ),
        lambda: (
            "m.room_key.withheld",
            {
                "algorithm": MEGOLM,
                "room_id": rng.choice([room_id, g()]),
                "session_id": g(),
                "sender_key": g(),
                "code": g(),
                "reason": g(),
            },
        ),
        lambda: (
            "m.secret.request",
            {
                "name": rng.choice(["m.cross_signing.self_signing", "m.megolm_backup.v1", g()]),
                "action": rng.choice(["request", g()]),
                "requesting_device_id": g(),
                "request_id": g(),
            },
        ),
        lambda: ("m.secret.send", {"request_id": g(), "secret": g()}),
        lambda: (
            f"m.key.verification.{rng.choice(VERIFICATION)}",
            {
                "transaction_id": rng.choice([b64(rng, 8), g()]),
                "from_device": g(),
                "methods": g(),
                "timestamp": g(),
                "method": g(),
                "key": g(),
                "mac": g(),
                "keys": g(),
                "code": g(),
                "commitment": g(),
            },
        ),
        lambda: (
            "m.key.verification.request",
            {
                "transaction_id": b64(rng, 8),
                "from_device": "EVIL",
                "methods": ["m.sas.v1"],
                "timestamp": rng.choice([g(), 10**30, -1, "now"]),
            },
        ),
        lambda: ("m.dummy", g()),
        lambda: (
            rng.choice(
                [
                    "org.example.unknown",
                    "m.room.message",
                    "m.room_key.garbage",
                    garbage_text(rng, 20) or "x",
                ]
            ),
            g(),
        ),
        lambda: (
            "m.room.encrypted",
            {
                "algorithm": OLM,
                "sender_key": b64(rng, 32),
                "ciphertext": {t.curve: {"type": 0, "body": b64(rng, 150)}},
                "extra": fake_event_id(rng),
            },
        ),
    ]


PAYLOADS: list[Callable[[random.Random, Target, str], bytes]] = [
    lambda rng, t, me: rng.randbytes(rng.randrange(1, 300)),  # not JSON, not UTF-8
    lambda rng, t, me: json.dumps(garbage(rng, 2)).encode(),
    lambda rng, t, me: json.dumps(
        {"type": "m.room_key", "content": garbage(rng), "sender": me, "recipient": t.user_id}
    ).encode(),
    lambda rng, t, me: json.dumps(
        {
            "type": "m.forwarded_room_key",
            "sender": me,
            "recipient": t.user_id,
            "recipient_keys": {"ed25519": garbage(rng, 0)},
            "keys": garbage(rng),
            "content": {
                "algorithm": MEGOLM,
                "session_key": b64(rng, 200),
                "room_id": garbage(rng, 0),
            },
        }
    ).encode(),
    lambda rng, t, me: json.dumps(
        {
            "type": garbage(rng, 0),
            "sender": garbage(rng, 0),
            "recipient": garbage(rng, 0),
            "content": garbage(rng),
        }
    ).encode(),
    lambda rng, t, me: json.dumps(
        {
            "type": "m.dummy",
            "sender": "@someone:else",
            "recipient": "@nobody:x",
            "keys": {"ed25519": b64(rng, 32)},
            "content": {},
        }
    ).encode(),
]


async def test_fuzz_to_device(
    org_env: OrgEnv,
    make_user: MakeUser,
    member_factory: MemberFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("WARNING")
    rng = random.Random(SEED)
    _s, room_id, (coord, member), runtime = await org_env.room_with_bots(
        member_factory, members=1, coordinators=1
    )
    url = org_env.synapse.url
    outsider_id, pw = await make_user("outsider")
    outsider = Outsider(url, await login(url, outsider_id, pw))
    targets = targets_of(runtime)
    bots = {t.user_id for t in targets}
    statuses: list[tuple[str, int]] = []

    for start in range(0, CASES, BATCH):
        for i in range(start, start + BATCH):
            t = targets[i % len(targets)]
            if i % 5 == 4:  # a genuine Olm session carrying a garbage payload
                content = await outsider.real_olm(t, rng.choice(PAYLOADS)(rng, t, outsider_id))
                event_type = "m.room.encrypted"
                if content is None:
                    continue
            else:
                kinds = shapes(rng, t, room_id)
                event_type, content = kinds[(i - i // 5) % len(kinds)]()
            device: Any = rng.choice([t.device_id, t.device_id, "*"])
            messages = {t.user_id: {device: content}}
            if i % 11 == 0:  # the same garbage to every bot at once
                messages = {x.user_id: {"*": content} for x in targets}
            status, _ = await send_to_device(url, outsider.token, event_type, messages)
            statuses.append((event_type, status))
        await assert_alive(
            runtime,
            {room_id: member},
            caplog.records,
            f"to-device cases {start}-{start + BATCH - 1}",
        )

    ok = sum(1 for _t, s in statuses if s == 200)
    assert ok >= len(statuses) // 2, f"the homeserver refused most cases: {statuses}"
    after = await member.send(room_id, "!event list")
    await member.wait_reply(after, count=1)
    assert_no_double_answers(
        [member, coord], bots, {e.event_id for _r, e in member.events if hasattr(e, "event_id")}
    )


async def test_garbage_waiting_at_start_does_not_stop_the_runtime(
    org_env: OrgEnv,
    make_user: MakeUser,
    member_factory: MemberFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The homeserver delivers an undecryptable to-device event again after a restart: the
    restarted runtime must not die on it either."""
    caplog.set_level("WARNING")
    rng = random.Random(SEED + 1)
    settings, room_id, (member,), runtime = await org_env.room_with_bots(member_factory)
    targets = targets_of(runtime)
    await org_env.stop_bots()
    url = org_env.synapse.url
    outsider_id, pw = await make_user("outsider")
    token = await login(url, outsider_id, pw)
    for t in targets:
        status, body = await send_to_device(
            url,
            token,
            "m.room.encrypted",
            {t.user_id: {t.device_id: olm(t, rng, 0, b64(rng, 200))}},
        )
        assert status == 200, body
    runtime = await org_env.start_bots(settings)
    await assert_alive(runtime, {room_id: member}, caplog.records, "a restart with garbage waiting")
    bots: set[str] = {t.user_id for t in targets}
    assert_no_double_answers(
        [member], bots, {e.event_id for _r, e in member.events if hasattr(e, "event_id")}
    )
