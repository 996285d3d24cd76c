"""The TUI in the coordinator's language: ``--lang``, ``$SAMVERKAN_LANG``, the system locale;
Swedish screens and dashboards; the pseudo-locale proves the labels go through the catalogue."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static, TabbedContent
from textual.widgets._footer import FooterKey
from textual.widgets._tabbed_content import ContentTab

from messenger.client.chat import ChatClient
from messenger.errors import ConfigError
from messenger.i18n import PSEUDO, available
from samverkan.cli import main
from samverkan.tui_entry import LANG_ENV, resolve_lang
from tests.tui.support import ME, NORDIC, T0, TRUSTED, TZ, offline_client
from tui.app import SamverkanApp
from tui.screens.dashboards import DashboardScreen
from tui.widgets.roomlist import RoomList
from tui.widgets.timeline import TimelineView

SIZE = (140, 40)


def plain(text: str) -> str:
    """Babel's no-break spaces as plain ones: compare meaning, not bytes."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


# -- choosing the language -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env", "lang"),
    [
        ("sv", {LANG_ENV: "da", "LANG": "nb_NO.UTF-8"}, "sv"),  # the flag wins
        (None, {LANG_ENV: "da", "LANG": "nb_NO.UTF-8"}, "da"),  # then $SAMVERKAN_LANG
        (None, {LANG_ENV: "  ", "LANG": "sv_SE.UTF-8"}, "sv"),  # then the system locale
        (None, {"LANG": "nb_NO.UTF-8"}, "nb"),
        (None, {"LANG": "no_NO"}, "nb"),
        (None, {"LC_ALL": "da_DK.UTF-8", "LC_MESSAGES": "sv_SE", "LANG": "nb_NO"}, "da"),
        (None, {"LC_MESSAGES": "sv_SE.UTF-8", "LANG": "nb_NO"}, "sv"),
        (None, {"LANG": "sv_FI.UTF-8@euro"}, "sv"),
        (None, {"LC_ALL": "C.UTF-8", "LANG": "sv_SE.UTF-8"}, "en"),  # C means English
        (None, {"LANG": "de_DE.UTF-8"}, "en"),  # a system language without a catalogue
        (None, {}, "en"),
        ("SV", {}, "sv"),
        ("nb_NO", {}, "nb"),
    ],
)
def test_the_language_comes_from_the_flag_the_environment_or_the_system(
    flag: str | None, env: dict[str, str], lang: str
) -> None:
    assert resolve_lang(flag, env) == lang


@pytest.mark.parametrize(
    ("flag", "env", "source"),
    [("xx", {}, "--lang"), ("klingon", {LANG_ENV: "sv"}, "--lang"),
     (None, {LANG_ENV: "zz"}, "$SAMVERKAN_LANG")],
)  # fmt: skip
def test_an_unknown_language_is_refused_listing_the_available_ones(
    flag: str | None, env: dict[str, str], source: str
) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_lang(flag, env)
    text = str(err.value)
    assert "unknown language" in text
    assert source in text
    for lang in available():
        assert lang in text


def test_samverkan_tui_lang_xx_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMVERKAN_TZ", raising=False)
    assert main(["tui", "--lang", "xx", "--config", "/nonexistent/org.toml"]) == 2
    err = capsys.readouterr().err
    assert "unknown language 'xx' (from --lang)" in err
    for lang in ("sv", "da", "nb"):
        assert lang in err


# -- what the person reads --------------------------------------------------------------------


def footer_words(app: SamverkanApp) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def settled_footer(pilot: Pilot[None], app: SamverkanApp) -> list[str]:
    """The footer's words once it has composed the screen's bindings."""
    for _ in range(50):
        words = footer_words(app)
        if words:
            return words
        await pilot.pause(0.05)
    raise AssertionError("the footer shows no keys")


async def test_the_main_screen_and_a_dashboard_in_swedish() -> None:
    app = SamverkanApp(client=offline_client(), tz=TZ, sync=False, lang="sv")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        words = await settled_footer(pilot, app)
        for swedish in ("Rum", "Tidslinje", "Skriv", "Avsluta", "Hjälp", "Översikter", "palett"):
            assert swedish in words, words
        title = str(app.screen.query_one("#room-title", Static).render())
        assert "Välj ett rum till vänster" in title
        rooms = [str(o.prompt) for o in app.screen.query_one(RoomList).options]
        assert any("Arbetsgrupper" in r for r in rooms), rooms
        assert any("Partnerskap" in r for r in rooms), rooms
        app.open_room(NORDIC)
        await pilot.pause()
        lines = [s.text for s in app.screen.query_one("#timeline", TimelineView)._lines]
        assert any("Björn gick med" in line for line in lines), lines
        assert any("1 svar — tryck t för att öppna" in line for line in lines), lines
        assert any("(redigerat)" in line for line in lines), lines
        await pilot.press("ctrl+t", "up", "up", "up", "t")  # the request's thread and card
        await pilot.pause()
        card = [s.text for s in app.screen.query_one("#thread", TimelineView)._lines]
        assert any("1 500,00 kr" in plain(line) for line in card), card  # Babel money
        assert any("mån 30 nov." in line for line in card), card  # Babel dates
        assert any("ÖPPEN" in line for line in card), card
        assert any("behövs senast" in line for line in card), card

        assert app.client is not None
        await app.push_screen(DashboardScreen(app.client, now_ms=T0))
        await pilot.pause()
        tabs = app.screen.query_one(TabbedContent)
        labels = [str(tab.label) for tab in tabs.query(ContentTab)]
        assert any("Kommande evenemang" in label for label in labels), labels
        assert any("Förfrågningar" in label for label in labels), labels
        events = app.screen.query_one("#t-events", DataTable)
        headers = [str(c.label) for c in events.columns.values()]
        assert headers[:4] == ["När (din tid)", "ID", "Titel", "Rum"], headers
        (row,) = [events.get_row_at(i) for i in range(events.row_count)]
        assert str(row[0]).startswith("tors 3 dec."), row  # the event, in Swedish
        await pilot.press("2")
        await pilot.pause()
        requests = app.screen.query_one("#t-requests", DataTable)
        headers = [str(c.label) for c in requests.columns.values()]
        assert headers[:3] == ["ID", "Status", "Rum"], headers
        row = requests.get_row_at(0)
        assert "ÖPPEN" in row, row
        assert "1 500,00 kr" in [plain(str(c)) for c in row], row
        words = await settled_footer(pilot, app)
        for swedish in ("Tillbaka", "Svara ja", "Bevilja", "Avslå", "Levererad"):
            assert swedish in words, words


async def test_every_label_goes_through_the_catalogue() -> None:
    """Under the pseudo-locale every word the TUI itself writes comes back ⟦bracketed⟧."""
    app = SamverkanApp(client=offline_client(), tz=TZ, sync=False, lang=PSEUDO)
    async with app.run_test(size=SIZE) as pilot:
        app.open_room(NORDIC)
        await pilot.pause()
        words = await settled_footer(pilot, app)
        assert words, "no footer"
        assert all(w.startswith("⟦") for w in words), words
        rooms = [str(o.prompt) for o in app.screen.query_one(RoomList).options]
        sections = [r for r in rooms if r.startswith(" ")]
        assert sections, rooms
        assert all("⟦" in s for s in sections), rooms
        assert app.client is not None
        await app.push_screen(DashboardScreen(app.client, now_ms=T0))
        await pilot.pause()
        for table in app.screen.query(DataTable):
            for column in table.columns.values():
                label = str(column.label)
                assert label in {"ID", "✅ ❔ ❌"} or label.startswith("⟦"), label
        words = await settled_footer(pilot, app)
        assert all(w.startswith("⟦") for w in words), words


async def test_identity_problems_are_in_the_persons_language() -> None:
    client = ChatClient.offline(ME, TRUSTED)
    app = SamverkanApp(client=client, tz=TZ, sync=False, lang="sv")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert client.t.lang == "sv"  # the app hands its language down
        identity = await client.prepare_identity(None)
        assert identity.problem == "frånkopplad: ingen anslutning till hemservern"


async def test_the_command_palette_in_swedish() -> None:
    app = SamverkanApp(client=offline_client(), tz=TZ, sync=False, lang="sv")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        assert palette.query_one(Input).placeholder == "Sök efter kommandon…"

        async def shown() -> list[str]:
            for _ in range(50):
                await pilot.pause(0.05)
                prompts = [str(o.prompt) for o in palette.query_one(OptionList).options]
                if prompts:
                    return prompts
            raise AssertionError("the palette shows nothing")

        everything = " | ".join(await shown())
        for swedish in ("Översikter: kommande evenemang", "Enheter och tillit", "Avsluta"):
            assert swedish in everything, everything
        await pilot.press(*"nordic")
        found = " | ".join(await shown())
        assert "Gå till rummet: Nordic policy" in found, found
