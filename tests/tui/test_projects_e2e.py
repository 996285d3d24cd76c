"""The Projects dashboard against the real Synapse and the projects bot, driven with Pilot:
every project with its Gantt (today marked, overdue highlighted); keys send the commands."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from tests.bots.projects.support import DAY, T0_MS, ask, projects_room, wait_card
from tests.support import OrgEnv
from tests.tui.support import body_is, sent_by, tui_for, until, wait_seen
from tui.board import project_rows
from tui.screens.projects import ProjectsScreen


async def test_projects_dashboard_shows_the_timeline_and_sends_commands(
    org_env: OrgEnv, member_factory: Any
) -> None:
    settings, room, (coord, alice), _rt, bot = await projects_room(
        org_env, member_factory, members=1, coordinators=1
    )
    async with tui_for(org_env, settings, coord.user_id) as (app, pilot):
        await until(pilot, lambda: app.client is not None and room in app.client.info, "rooms")
        client = app.client
        assert client is not None
        await ask(alice, room, bot, '!project create "Alpha" --until 2027-06-30')
        await ask(alice, room, bot, '!project create "Beta" --until 2027-03-31')
        await ask(alice, room, bot, '!milestone add P1 "Kickoff" 2027-01-20')
        await ask(alice, room, bot, '!milestone add P1 "Training" 2027-03-01')
        await until(pilot, lambda: len(project_rows(client)) == 2, "both projects on the board")
        await until(
            pilot,
            lambda: len(project_rows(client)[0].data.milestones) == 2,
            "the card's latest edit",
        )
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, ProjectsScreen)
        screen.now_ms = T0_MS + 14 * DAY  # 2027-01-25: M1 is overdue
        screen.refresh_board()
        table = screen.query_one("#t-projects")
        stones = screen.query_one("#t-milestones")
        assert table.row_count == 2  # type: ignore[attr-defined]
        projects = [table.get_row_at(i) for i in range(2)]  # type: ignore[attr-defined]
        assert [str(c[0]) for c in projects] == ["P1", "P2"]
        assert "│" in str(projects[0][6]), "today is marked on the timeline"
        assert "!" in str(projects[0][6]), "the overdue milestone shows on the project's line"
        assert "2027-01-25" in str(screen.query_one("#span").render())
        assert stones.row_count == 2  # type: ignore[attr-defined]  # P1's, under the cursor
        kickoff = stones.get_row_at(0)  # type: ignore[attr-defined]
        assert (str(kickoff[0]), str(kickoff[2])) == ("M1", "overdue")
        assert isinstance(kickoff[0], Text)
        assert "red" in str(kickoff[0].style)

        await pilot.press("d")  # the projects table has the focus: nothing is sent
        await pilot.press("tab", "d")  # M1: done, sent in the card's thread
        done = await wait_seen(alice, coord.user_id, body_is("!milestone done M1"))
        assert done["content"]["m.relates_to"]["rel_type"] == "m.thread"
        await wait_card(alice, room, bot, "P1", lambda c: c["milestones"][0]["done_on"])
        await until(
            pilot,
            lambda: str(stones.get_row_at(0)[2]).startswith("done"),  # type: ignore[attr-defined]
            "the live dashboard",
        )
        assert sum(1 for _ in sent_by(alice, coord.user_id, body_is("!milestone done M1"))) == 1

        await pilot.press("shift+tab", "u")  # back on the projects table: P1
        await pilot.press(*"at-risk Venue fell through")
        await pilot.press("enter")
        sent = await wait_seen(
            alice, coord.user_id, lambda s: str(s["content"].get("body", "")).startswith("!update")
        )
        assert sent["content"]["body"] == '!update P1 at-risk "Venue fell through"'
        await wait_card(alice, room, bot, "P1", lambda c: c["status"] == "at-risk")
        await pilot.press("down")  # P2: the lower table shows its milestones (none)
        await until(pilot, lambda: stones.row_count == 0, "P2's milestones")  # type: ignore[attr-defined]
