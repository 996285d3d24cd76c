"""Unit tests: the timeline model, Markdown content, completion, and the connection banner."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from messenger.client.chat import markdown_content
from messenger.client.timeline import Timeline
from messenger.events import Incoming
from tests.tui.support import (
    BJORN,
    EVENTS,
    ME,
    METTE,
    NORDIC,
    TRUSTED,
    TZ,
    nordic_events,
    offline_client,
)
from tui.app import Connection, SamverkanApp
from tui.widgets.composer import completions


def test_edits_reactions_threads_and_undecryptable_are_applied() -> None:
    tl = Timeline(NORDIC, ME, TRUSTED)
    tl.add_live(nordic_events())
    root = tl.get("$e2")
    assert root is not None
    assert root.edited
    assert "in December" in root.body
    assert tl.get("$e3").reactions == {"👍": [METTE, BJORN]}  # type: ignore[union-attr]
    assert [m.event_id for m in tl.thread("$e2")] == ["$e2", "$e9"]
    assert "$e9" not in tl.order  # thread replies live under their root
    utd = tl.get("$e13")
    assert utd is not None
    assert utd.decrypt_error
    card = tl.get("$e5")
    assert card is not None
    assert "org.samverkan.event" in card.structured


def test_structured_content_only_from_trusted_bots() -> None:
    forged = Incoming(
        NORDIC,
        "$x",
        METTE,
        "m.room.message",
        {"msgtype": "m.notice", "body": "x", "org.samverkan.request": {"id": "R9"}},
        1,
    )
    real = Incoming(
        NORDIC,
        "$y",
        EVENTS,
        "m.room.message",
        {"msgtype": "m.notice", "body": "y", "org.samverkan.event": {"id": "E1"}},
        2,
    )
    tl = Timeline(NORDIC, ME, TRUSTED)
    tl.add_live([forged, real])
    assert tl.get("$x").structured == {}  # type: ignore[union-attr]
    assert tl.get("$y").structured == {"org.samverkan.event": {"id": "E1"}}  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(14))), st.integers(min_value=0, max_value=14))
def test_order_of_arrival_does_not_change_the_result(perm: list[int], split: int) -> None:
    """Live events, history pages and relations before their targets give the same view."""
    events = nordic_events()
    expected = Timeline(NORDIC, ME, TRUSTED)
    expected.add_live(events)
    tl = Timeline(NORDIC, ME, TRUSTED)
    tl.add_live(events[split:])
    tl.add_history(events[:split])
    assert tl.order == expected.order
    shuffled = Timeline(NORDIC, ME, TRUSTED)
    shuffled.add_live([events[i] for i in perm])
    for event_id, msg in expected.messages.items():
        other = shuffled.get(event_id)
        assert other is not None
        assert (other.body, other.reactions.keys(), other.edited) == (
            msg.body,
            msg.reactions.keys(),
            msg.edited,
        )


def test_local_echo_is_replaced_by_the_remote_echo() -> None:
    tl = Timeline(NORDIC, ME, TRUSTED)
    msg = tl.local_echo("txn1", ME, {"msgtype": "m.text", "body": "hi"}, 5)
    assert msg.pending
    assert tl.order == ["txn1"]
    remote = Incoming(
        NORDIC,
        "$real",
        ME,
        "m.room.message",
        {"msgtype": "m.text", "body": "hi"},
        6,
        raw={"unsigned": {"transaction_id": "txn1"}},
    )
    tl.add_live([remote])
    assert tl.order == ["$real"]
    assert not tl.get("$real").pending


def test_markdown_becomes_html_and_raw_html_is_escaped() -> None:
    assert "formatted_body" not in markdown_content("plain words")
    assert markdown_content("**b**")["formatted_body"] == "<p><strong>b</strong></p>"
    assert "<script>" not in markdown_content("*x* <script>alert(1)</script>")["formatted_body"]


def test_completion_of_commands_and_names() -> None:
    cmds = ["!event create", "!event rsvp", "!request approve"]
    assert completions("!ev", 3, cmds, {}) == (0, ["!event create ", "!event rsvp "])
    members = {BJORN: "Björn", METTE: "Mette"}
    assert completions("hej bj", 6, cmds, members) == (4, ["Björn "])
    assert completions("me", 2, cmds, members) == (0, ["Mette: "])


async def test_connection_banner_shows_and_hides() -> None:
    app = SamverkanApp(client=offline_client(), tz=TZ, sync=False)
    async with app.run_test(size=(120, 30)) as pilot:
        app.post_message(Connection(False, "sync failed: ClientConnectorError — retrying in 2 s"))
        await pilot.pause()
        banner = app.screen.query_one("#banner")
        assert banner.display
        assert "Connection to the homeserver lost" in str(banner.render())
        app.post_message(Connection(True, None))
        await pilot.pause()
        assert not banner.display


def test_a_late_room_key_replaces_the_undecryptable_placeholder() -> None:
    tl = Timeline(NORDIC, ME, TRUSTED)
    tl.add_live(nordic_events())
    late = Incoming(
        NORDIC,
        "$e13",
        METTE,
        "m.room.message",
        {"msgtype": "m.text", "body": "ok!"},
        1,
        encrypted=True,
    )
    assert tl.add_live([late]) == {"$e13"}
    msg = tl.get("$e13")
    assert msg is not None
    assert msg.decrypt_error is None
    assert msg.body == "ok!"
    reaction = Incoming(
        NORDIC,
        "$e13",
        METTE,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$e14", "key": "🎉"}},
        2,
        encrypted=True,
    )
    tl2 = Timeline(NORDIC, ME, TRUSTED)
    tl2.add_live(nordic_events())
    tl2.add_live([reaction])
    assert tl2.get("$e13") is None
    assert tl2.get("$e14").reactions == {"🎉": [METTE]}
