"""What the timeline marks on a message: unencrypted in an encrypted room, deleted device,
why it cannot be read (rendered offline, no homeserver)."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from messenger.client.timeline import Timeline
from messenger.events import Incoming
from tests.tui.support import BJORN, ME, NAMES, NORDIC, T0, TZ, text
from tui.render import MessageRenderer


def rendered(tl: Timeline, room_encrypted: bool = True, width: int = 100) -> list[str]:
    """Every line of the room's main timeline, grouped as the view groups them."""
    r = MessageRenderer(
        Console(width=width),
        lambda u: NAMES.get(u, u),
        tl.get,
        ME,
        TZ,
        room_encrypted=lambda: room_encrypted,
    )
    lines: list[str] = []
    prev = None
    for msg in tl.main():
        grouped = prev is not None and prev.sender == msg.sender
        lines += [s.text for s in r.lines(msg, width, grouped)]
        prev = msg
    return lines


def msg(n: int, body: str, encrypted: bool = True, **kw: Any) -> Incoming:
    return Incoming(
        NORDIC, f"$m{n}", BJORN, "m.room.message", text(body), T0 + n * 1000, encrypted, **kw
    )


def test_plaintext_in_an_encrypted_room_is_marked_even_when_grouped() -> None:
    tl = Timeline(NORDIC, ME)
    tl.add_live([msg(1, "encrypted hello"), msg(2, "forged by the server", encrypted=False)])
    lines = rendered(tl)
    marked = [line for line in lines if "⚠ not encrypted" in line]
    assert len(marked) == 1, lines
    forged = lines.index(next(line for line in lines if "forged by the server" in line))
    assert "⚠ not encrypted" in lines[forged - 1]  # the header right above it
    hello = lines.index(next(line for line in lines if "encrypted hello" in line))
    assert "not encrypted" not in lines[hello - 1]


def test_plaintext_in_a_plaintext_room_is_not_marked() -> None:
    tl = Timeline(NORDIC, ME)
    tl.add_live([msg(1, "plain room talk", encrypted=False)])
    assert not [line for line in rendered(tl, room_encrypted=False) if "not encrypted" in line]


def test_a_message_from_a_deleted_device_is_readable_and_marked() -> None:
    tl = Timeline(NORDIC, ME)
    tl.add_live([msg(1, "before I signed out", device_deleted=True), msg(2, "from my phone")])
    lines = rendered(tl)
    old = lines.index(next(line for line in lines if "before I signed out" in line))
    assert "⚠ sent from a deleted device" in lines[old - 1]
    assert sum("deleted device" in line for line in lines) == 1  # the phone's is not marked


def test_the_reason_shown_is_the_latest_attempts_unless_it_says_less() -> None:
    tl = Timeline(NORDIC, ME)
    utd = {"algorithm": "m.megolm.v1.aes-sha2"}

    def attempt(why: str) -> Incoming:
        return Incoming(NORDIC, "$u", BJORN, "m.room.encrypted", utd, T0, True, decrypt_error=why)

    tl.add_live([attempt("the room key has not arrived (yet)")])
    changed = tl.add_history([attempt("the room key is not signed by @bjorn's device")])
    assert changed == {"$u"}
    assert any("not signed by @bjorn's device" in line for line in rendered(tl))
    tl.add_live([attempt("the room key has not arrived (yet)")])  # says less: kept
    assert any("not signed by @bjorn's device" in line for line in rendered(tl))
    assert not any("has not arrived" in line for line in rendered(tl))
