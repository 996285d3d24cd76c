"""Deterministic offline data for the TUI: a small organisation for snapshots, a big room."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

from textual.pilot import Pilot

from messenger.client.chat import ChatClient, RoomInfo
from messenger.events import Incoming
from messenger.ids import localpart
from tests.support import WAIT_S, Member, OrgEnv
from tui.app import SamverkanApp
from tui.factory import make_app
from tui.screens.identity import RecoveryKeyScreen

ME = "@anna:localhost"
BJORN = "@bjorn:localhost"
METTE = "@mette:localhost"
EVENTS = "@events:localhost"
RESOURCES = "@resources:localhost"
TRANSLATE = "@translate:localhost"
TRUSTED = {EVENTS, RESOURCES, TRANSLATE}
TZ = ZoneInfo("Europe/Stockholm")
T0 = 1_796_000_000_000  # 2026-11-29, a fixed instant
NORDIC = "!nordic:localhost"
KENYA = "!kenya:localhost"
BUDGET = "!budget:localhost"
SPACE = "!space:localhost"
NAMES = {
    ME: "Anna",
    BJORN: "Björn",
    METTE: "Mette",
    EVENTS: "events",
    RESOURCES: "resources",
    TRANSLATE: "translate",
}


def ev(room: str, n: int, sender: str, content: dict[str, Any], **kw: Any) -> Incoming:
    """A decrypted event ``$room-n`` at T0 + n minutes."""
    etype = kw.pop("type", "m.room.message")
    return Incoming(room, f"$e{n}", sender, etype, content, T0 + n * 60_000, encrypted=True, **kw)


def text(body: str, **extra: Any) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body, **extra}


def event_card(rsvps: dict[str, str], root: str) -> dict[str, Any]:
    return {
        "msgtype": "m.notice",
        "body": "📅 E1 Board meeting",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root},
        "org.samverkan.event": {
            "id": "E1",
            "room": NORDIC,
            "title": "Board meeting",
            "start": "2026-12-03T14:00:00+01:00",
            "end": "2026-12-03T16:00:00+01:00",
            "timezone": "Europe/Stockholm",
            "duration_minutes": 120,
            "where": "Riksdagen, room 3",
            "rsvps": rsvps,
            "creator": BJORN,
        },
    }


def request_card(status: str, root: str) -> dict[str, Any]:
    return {
        "msgtype": "m.notice",
        "body": "📦 R1 travel 1500.00 SEK",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root},
        "org.samverkan.request": {
            "id": "R1",
            "room_id": NORDIC,
            "kind": "travel",
            "unit": "SEK",
            "what": "Train tickets to Copenhagen",
            "requester": METTE,
            "created_at": T0,
            "amount": "1500.00",
            "by": "2026-12-01",
            "status": status,
        },
    }


def nordic_events() -> list[Incoming]:
    """A small, varied conversation: replies, a thread, reactions, an edit, cards, a UTD."""
    return [
        ev(NORDIC, 1, BJORN, {"membership": "join"}, type="m.room.member", state_key=BJORN),
        ev(NORDIC, 2, BJORN, text("Hej! Shall we meet before the congress?")),
        ev(NORDIC, 3, ME, text("Yes — I'll set it up with the events bot.")),
        ev(
            NORDIC,
            4,
            ME,
            text('!event create "Board meeting" 2026-12-03 14:00 --where "Riksdagen, room 3"'),
        ),
        ev(NORDIC, 5, EVENTS, event_card({BJORN: "yes"}, "$e4")),
        ev(
            NORDIC,
            6,
            METTE,
            text(
                "Can I get train tickets covered?",
                **{"m.relates_to": {"m.in_reply_to": {"event_id": "$e2"}}},
            ),
        ),
        ev(NORDIC, 7, METTE, text('!request travel "Train tickets to Copenhagen" --amount 1500')),
        ev(NORDIC, 8, RESOURCES, request_card("open", "$e7")),
        ev(
            NORDIC,
            9,
            BJORN,
            text(
                "Agenda in the thread please",
                **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$e2"}},
            ),
        ),
        ev(
            NORDIC,
            10,
            METTE,
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e3", "key": "👍"}},
            type="m.reaction",
        ),
        ev(
            NORDIC,
            11,
            BJORN,
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e3", "key": "👍"}},
            type="m.reaction",
        ),
        ev(
            NORDIC,
            12,
            BJORN,
            text(
                "* Hej! Shall we meet before the congress in December?",
                **{
                    "m.new_content": text("Hej! Shall we meet before the congress in December?"),
                    "m.relates_to": {"rel_type": "m.replace", "event_id": "$e2"},
                },
            ),
        ),
        ev(
            NORDIC,
            13,
            METTE,
            {"algorithm": "m.megolm.v1.aes-sha2"},
            type="m.room.encrypted",
            decrypt_error="the room key has not arrived (yet)",
        ),
        ev(
            NORDIC,
            14,
            BJORN,
            text("@anna can you approve Mette's request?", **{"m.mentions": {"user_ids": [ME]}}),
        ),
    ]


def offline_client(unread: bool = True) -> ChatClient:
    """A client with three rooms in the organisation's space and the Nordic conversation."""
    client = ChatClient.offline(ME, TRUSTED)
    client.info = {
        SPACE: RoomInfo(SPACE, "Fjärilspartiet International", kind="space"),
        NORDIC: RoomInfo(
            NORDIC,
            "Nordic policy",
            "working_group",
            shield="unverified",
            topic="Nordic cooperation",
        ),
        BUDGET: RoomInfo(BUDGET, "Budget", "working_group", shield="verified"),
        KENYA: RoomInfo(
            KENYA, "Kenya local democracy", "partnership", shield="plain", encrypted=False
        ),
    }
    client.display_name = lambda user, room=None: NAMES.get(user, user)  # type: ignore[method-assign]
    client.members = lambda room: {u: n for u, n in NAMES.items()}  # type: ignore[method-assign]
    client.ingest(NORDIC, nordic_events(), live=True)
    for r in (NORDIC, BUDGET, KENYA):
        client.timeline(r).at_start = True
    if unread:
        client.info[KENYA].unread = 4
        client.info[BUDGET].unread = 2
        client.info[BUDGET].mentions = 1
    return client


def big_room(client: ChatClient, room: str, n: int) -> None:
    """``n`` messages of varied length from three people, one every 30 s."""
    words = "samverkan nordic policy congress budget meeting translation request travel".split()
    people = [ME, BJORN, METTE]
    events = []
    for i in range(n):
        body = " ".join(words[(i * 7 + k) % len(words)] for k in range(5 + (i * 13) % 40))
        events.append(
            Incoming(
                room,
                f"$big{i}",
                people[i % 3],
                "m.room.message",
                text(f"{i}: {body}"),
                T0 + i * 30_000,
                encrypted=True,
            )
        )
    client.ingest(room, events, live=False)
    client.timeline(room).at_start = True


SIZE = (150, 45)


def password_of(user_id: str) -> str:
    """The password tests.conftest.make_user gives every account."""
    return f"pw-{localpart(user_id)}"


async def until(pilot: Pilot[None], pred: Callable[[], bool], what: str) -> None:
    """Let the app run until ``pred()`` holds (the UI keeps running meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not pred():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def sent_by(member: Member, sender: str, pred: Callable[[dict[str, Any]], bool]) -> list[Any]:
    """Decrypted event sources ``member`` saw from ``sender`` matching ``pred``."""
    out = []
    for _room, ev in member.events:
        src = getattr(ev, "source", {})
        if src.get("sender") == sender and pred(src):
            out.append(src)
    return out


async def wait_seen(member: Member, sender: str, pred: Callable[[dict[str, Any]], bool]) -> Any:
    """The first decrypted event from ``sender`` matching ``pred`` that ``member`` sees."""

    async def ok() -> bool:
        return bool(sent_by(member, sender, pred))

    await member.wait_until(ok)
    return sent_by(member, sender, pred)[0]


def body_is(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda src: src.get("content", {}).get("body") == text


@contextlib.asynccontextmanager
async def tui_for(
    org_env: OrgEnv,
    settings: Any,
    user_id: str,
    password: str | None = None,
    *,
    dismiss_identity: bool = True,
) -> AsyncIterator[tuple[SamverkanApp, Pilot[None]]]:
    """The app signed in as ``user_id`` (its stored device, or a login), running headless.

    A first login shows the new recovery key; ``dismiss_identity`` closes that dialog.
    """
    assert org_env.deployment is not None
    app = make_app(
        settings,
        org_env.deployment.vault,
        org_env.synapse.url,
        user_id,
        password or password_of(user_id),
        tz=ZoneInfo("Europe/Stockholm"),
    )
    async with app.run_test(size=SIZE) as pilot:
        if dismiss_identity:
            await until(pilot, lambda: app.main is not None, "the sign-in")
            await pilot.pause()
            if isinstance(app.screen, RecoveryKeyScreen):
                await pilot.press("enter")
        yield app, pilot
        if app.client is not None and app.client.session is not None:
            app.client.stop()
            app.workers.cancel_all()
            await pilot.pause()
            await app.client.session.close()
