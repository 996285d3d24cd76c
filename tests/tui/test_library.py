"""The Library screen (Pilot, offline client): the library bot's cards searched as one types,
across compounds and diacritics; removed entries gone; an entry's source message opened;
every label through the catalogue."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, Static

from messenger.client.chat import ChatClient
from messenger.i18n import PSEUDO
from tests.tui.support import KENYA, METTE, NORDIC, T0, TZ, ev, offline_client, text
from tui.app import SamverkanApp
from tui.screens.library import LibraryScreen

LIBRARY = "@library:localhost"
SIZE = (150, 40)


def card(n: int, room: str, title: str, excerpt: str, source: str, **kw: Any) -> dict[str, Any]:
    data = {
        "id": f"K{n}",
        "room_id": room,
        "title": title,
        "type": kw.pop("type", "lesson"),
        "author": METTE,
        "created_at": T0 + n,
        "excerpt": excerpt,
        "source_event_id": source,
        **kw,
    }
    return {"msgtype": "m.notice", "body": f"📚 K{n} · {title}", "org.samverkan.library": data}


def library_client() -> ChatClient:
    client = offline_client(unread=False)
    client.trusted = {*client.trusted, LIBRARY}
    for timeline in client.timelines.values():
        timeline.trusted = client.trusted
    client.ingest(
        NORDIC,
        [
            ev(NORDIC, 20, METTE, text("Start tidligt med lokale frivillige i kommunalvalget.")),
            ev(NORDIC, 21, LIBRARY, card(1, NORDIC, "Valgkampen", "Start tidligt …", "$e20")),
            ev(NORDIC, 22, LIBRARY, card(2, NORDIC, "Östersjön", "Miljö och samarbete.", "$e22")),
            ev(
                NORDIC, 23, LIBRARY, card(3, NORDIC, "Gone", "Valg igen.", "$e22", status="removed")
            ),
        ],
        live=True,
    )
    client.ingest(
        KENYA,
        [ev(KENYA, 30, LIBRARY, card(4, KENYA, "Youth wing", "Ungdomsvalg i Nakuru.", "$e30"))],
        live=True,
    )
    return client


def rows(app: SamverkanApp) -> list[str]:
    table = app.screen.query_one("#library-results", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_search_as_you_type_and_open_the_source() -> None:
    app = SamverkanApp(client=library_client(), tz=TZ, sync=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        assert rows(app) == ["K4", "K2", "K1"]  # newest first; the removed K3 is gone
        await pilot.press(*"va")
        await pilot.pause()
        status = str(app.screen.query_one("#library-status", Static).render())
        assert "3 letters" in status
        assert len(rows(app)) == 3
        await pilot.press("l", "g")
        await pilot.pause()
        assert sorted(rows(app)) == ["K1", "K4"]  # Valgkampen, Ungdomsvalg
        app.screen.query_one("#library-query", Input).value = "ostersjo"
        await pilot.pause()
        assert rows(app) == ["K2"]
        entry = str(app.screen.query_one("#library-entry", Static).render())
        assert "Östersjön" in entry
        assert "Miljö och samarbete." in entry
        app.screen.query_one("#library-query", Input).value = "valgkamp"
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        assert app.main is not None
        assert app.screen is app.main
        assert app.main.room_id == NORDIC
        assert app.main.thread_root == "$e20"  # the message K1 was made from


async def test_library_labels_go_through_the_catalogue() -> None:
    app = SamverkanApp(client=library_client(), tz=TZ, sync=False, lang=PSEUDO)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LibraryScreen)
        labels = [str(c.label) for c in screen.query_one(DataTable).columns.values()]
        assert all(label == "ID" or label.startswith("⟦") for label in labels), labels
        assert screen.query_one(Input).placeholder.startswith("⟦")
        assert str(screen.query_one("#library-status", Static).render()).startswith("⟦")
        table = screen.query_one(DataTable)
        assert str(table.get_row_at(0)[2]).startswith("⟦")  # the entry type
