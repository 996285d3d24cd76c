"""The virtual timeline view on a big room: scrolling lays out older messages, in order."""

from __future__ import annotations

import gc

from messenger.client.chat import RoomInfo
from tests.tui.support import TZ, big_room, offline_client
from tui.app import SamverkanApp
from tui.quietgc import NEVER, QUIET_GC
from tui.render import GUTTER
from tui.widgets.timeline import TimelineView

ROOM = "!big:localhost"


def numbers_shown(view: TimelineView) -> list[int]:
    """The ``N:`` each laid-out message body starts with, top to bottom."""
    out = []
    for strip in view._lines:
        text = strip.text
        head = text.strip().split(":", 1)[0]
        if text.startswith(" " * GUTTER) and head.isdigit():
            out.append(int(head))
    return out


async def test_scrolling_up_reaches_the_first_message_without_gaps() -> None:
    client = offline_client(unread=False)
    client.info[ROOM] = RoomInfo(ROOM, "Big", "working_group")
    big_room(client, ROOM, 600)
    app = SamverkanApp(client=client, tz=TZ, sync=False)
    before = gc.get_threshold()
    async with app.run_test(size=(120, 40)) as pilot:
        assert QUIET_GC.active
        assert gc.get_threshold()[2] == NEVER  # no full collection in the middle of a scroll
        app.open_room(ROOM)
        await pilot.pause()
        view = app.screen.query_one("#timeline", TimelineView)
        assert numbers_shown(view)[-1] == 599
        assert len(view._lines) < 300  # only a window of the newest messages is laid out
        assert not view.show_horizontal_scrollbar
        steps = 0
        while view.scroll_y > 0 or view._start > 0:
            view.scroll_to(y=max(0, view.scroll_y - 60), animate=False, immediate=True)
            await pilot.pause()
            steps += 1
            # the content grew without a screen layout: the scrollbar still agrees
            assert view.vertical_scrollbar.window_virtual_size == view.virtual_size.height
            assert view.virtual_size.height == len(view._lines)
            assert steps < 3000
        assert numbers_shown(view) == list(range(600))
        view.focus()
        await pilot.press("end")
        assert view.scroll_y == view.max_scroll_y
    assert gc.get_threshold() == before
    assert not QUIET_GC.active


def test_quiet_gc_collects_only_when_quiet() -> None:
    QUIET_GC.start()
    try:
        QUIET_GC.touch()
        gc.collect(1)  # something was promoted to the oldest generation
        assert not QUIET_GC.tick()  # the person is still active
        QUIET_GC.last_activity -= 10
        gc.collect(1)
        assert QUIET_GC.tick()
        assert gc.get_count()[2] == 0
    finally:
        QUIET_GC.stop()
