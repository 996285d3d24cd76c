"""Helpers for driving the TUI against the real Synapse: open it as a user, wait, check others."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

from textual.pilot import Pilot

from messenger.ids import localpart
from tests.support import WAIT_S, Member, OrgEnv
from tui.app import SamverkanApp
from tui.factory import make_app
from tui.screens.identity import RecoveryKeyScreen

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
