"""The timezone times are shown in: ``--tz``, ``$SAMVERKAN_TZ``, or the system's."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from messenger.errors import ConfigError
from samverkan.tui_entry import TZ_ENV, resolve_tz
from tests.tui.support import NORDIC, T0, offline_client
from tui.app import SamverkanApp
from tui.widgets.timeline import TimelineView


def test_flag_wins_over_environment_and_system() -> None:
    env = {TZ_ENV: "Africa/Nairobi"}
    assert resolve_tz("Europe/Stockholm", env) == ZoneInfo("Europe/Stockholm")
    assert resolve_tz(None, env) == ZoneInfo("Africa/Nairobi")
    assert resolve_tz(None, {}) is None  # the system's zone
    assert resolve_tz("", {TZ_ENV: "  "}) is None


@pytest.mark.parametrize(
    ("flag", "env", "source"),
    [
        ("Europe/Stockhlom", {}, "--tz"),
        ("Europe", {}, "--tz"),
        (None, {TZ_ENV: "Mars/Olympus"}, "$SAMVERKAN_TZ"),
    ],
)
def test_unknown_zone_is_a_clear_error(flag: str | None, env: dict[str, str], source: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_tz(flag, env)
    text = str(err.value)
    assert "unknown timezone" in text
    assert source in text
    assert "Europe/Stockholm" in text  # names a valid example


@pytest.mark.parametrize(
    ("zone", "clock"),
    [("Europe/Stockholm", "01:54"), ("UTC", "00:54"), ("Africa/Nairobi", "03:54")],
)
async def test_timeline_shows_times_in_the_chosen_zone(zone: str, clock: str) -> None:
    app = SamverkanApp(client=offline_client(), tz=ZoneInfo(zone), sync=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_room(NORDIC)
        await pilot.pause()
        view = app.screen.query_one("#timeline", TimelineView)
        first = next(s.text for s in view._lines if "Björn" in s.text)
        assert first.startswith(clock), (first, T0)
