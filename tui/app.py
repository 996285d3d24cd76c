"""Provides ``SamverkanApp``: the coordinator's terminal client and its network workers."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message as UIMessage
from textual.screen import Screen

from messenger.client.chat import Changes, ChatClient
from messenger.client.timeline import Message
from messenger.errors import AuthError, MessengerError
from messenger.i18n import N_, SOURCE, Translator, translator
from tui.commands import SamverkanCommands, commands_from_help
from tui.quietgc import CHECK_S, QUIET_GC
from tui.screens.login import LoginScreen
from tui.screens.main import MainScreen
from tui.screens.prompts import InviteScreen, ReactionPicker
from tui.widgets.timeline import TimelineView

log = logging.getLogger(__name__)

TEXTUAL_COMMANDS = [
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
    N_("Search for commands…"),
]
"""Textual's own command palette entries, extracted here and translated when shown."""

ANSWER_S = 300
"""How long a self-verification request waits for another device to answer."""

Opener = Callable[[str, str, str | None], Awaitable[ChatClient]]


@dataclass
class LoginDefaults:
    """What the login screen starts with."""

    url: str = ""
    user_id: str = ""
    password: str | None = None
    restore: bool = True


class Synced(UIMessage):
    """A sync batch was applied."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        super().__init__()


class Connection(UIMessage):
    """The homeserver connection went down or came back."""

    def __init__(self, ok: bool, text: str | None) -> None:
        self.ok = ok
        self.text = text
        super().__init__()


class SamverkanApp(App[None]):
    """Log in (or restore), then the main screen; every homeserver call runs in a worker."""

    TITLE = "Samverkan"
    CSS_PATH = "app.tcss"
    PAUSE_GC_ON_SCROLL = True
    COMMANDS = App.COMMANDS | {SamverkanCommands}
    BINDINGS = [
        Binding("f1", "help", N_("Help")),
        Binding("f2", "dashboards", N_("Dashboards")),
        Binding("f3", "devices", N_("Devices")),
        Binding("f6", "library", N_("Library"), show=False),  # the palette lists it too
        Binding("f4", "projects", N_("Projects")),
        Binding("f5", "toggle_theme", N_("Theme")),
        Binding("ctrl+q", "quit", N_("Quit"), priority=True),
    ]

    def __init__(
        self,
        opener: Opener | None = None,
        client: ChatClient | None = None,
        *,
        defaults: LoginDefaults | None = None,
        tz: tzinfo | None = None,
        sync: bool = True,
        commands: list[str] | None = None,
        lang: str = SOURCE,
    ) -> None:
        super().__init__()
        self.lang = lang
        self.t: Translator = translator(lang)
        """Every word on screen in the coordinator's language (widgets read ``app.t``)."""
        self.declared_commands = commands or []
        """``!event create`` …: what the bots declare (the CLI passes them in)."""
        self.opener = opener
        self.client = client
        self.defaults = defaults or LoginDefaults()
        self.tz = tz
        self.sync = sync
        self.main: MainScreen | None = None
        self.board_filled = False
        """True once the dashboards hold what the rooms' recent history says."""
        self.theme = "textual-dark"

    # -- start ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        QUIET_GC.start()
        self.set_interval(CHECK_S, QUIET_GC.tick)
        if self.client is not None:
            self.start(self.client)
        elif (
            self.opener is not None
            and self.defaults.user_id
            and (self.defaults.restore or self.defaults.password)
        ):
            self.sign_in(self.defaults.url, self.defaults.user_id, self.defaults.password)
        else:
            self.push_screen(LoginScreen(self.defaults))

    @work(exclusive=True, group="login", exit_on_error=False)
    async def sign_in(self, url: str, user_id: str, password: str | None) -> None:
        """Restore the stored device or log in; the login screen shows what went wrong."""
        assert self.opener is not None
        try:
            client = await self.opener(url, user_id, password)
        except MessengerError as e:
            problem = (
                self._("no stored session for this account here: enter the password")
                if isinstance(e, AuthError) and password is None
                else str(e)
            )
            if isinstance(self.screen, LoginScreen):
                self.screen.show_error(problem)
            else:
                self.push_screen(LoginScreen(LoginDefaults(url, user_id), problem))
            return
        self.start(client)

    def start(self, client: ChatClient) -> None:
        """Show the main screen for a ready client and start syncing."""
        self.client = client
        client.t = self.t
        self.sub_title = client.me
        self.main = MainScreen(client)
        if isinstance(self.screen, LoginScreen):
            self.switch_screen(self.main)
        else:
            self.push_screen(self.main)
        if self.sync and client.session is not None:
            self.sync_loop()
            self.verification_requests()
        if client.session is not None:
            self.show_identity()

    def show_identity(self) -> None:
        """Tell the person what happened to the account's cross-signing identity at sign-in."""
        assert self.client is not None
        from tui.screens.identity import AskRecoveryKey, RecoveryKeyScreen

        identity = self.client.identity
        if identity.state == "created" and identity.recovery_key:
            self.push_screen(RecoveryKeyScreen(self.client.me, identity.recovery_key))
            identity.recovery_key = None  # shown once; the store keeps the sealed copy
        elif identity.state == "needs_recovery_key":
            self.push_screen(
                AskRecoveryKey(self.client.me, identity.problem or ""), self.identity_chosen
            )
        elif identity.state == "restored":
            self.notify(self._("Cross-signing identity restored with the recovery key."))
        elif identity.state == "verified":
            self.notify(self._("This device is verified: your other session signed it."))
        elif identity.state == "unavailable" and identity.problem:
            self.notify(identity.problem, severity="warning", timeout=15)

    def identity_chosen(self, choice: tuple[str, str] | None) -> None:
        """The person picked a way to confirm this device (or Later)."""
        from tui.screens.identity import ResetIdentity

        assert self.client is not None
        if choice is None:
            self.notify(
                self._("This device is not cross-signed; F3 lists devices and their trust."),
                severity="warning",
            )
        elif choice[0] == "key":
            self.restore_identity(choice[1])
        elif choice[0] == "verify":
            self.verify_own_device()
        elif choice[0] == "reset":

            def confirmed(password: str | None) -> None:
                if password:
                    self.reset_identity(password)
                else:
                    self.show_identity()

            self.push_screen(ResetIdentity(self.client.me), confirmed)

    @work(group="identity", exclusive=True, exit_on_error=False)
    async def restore_identity(self, recovery_key: str) -> None:
        assert self.client is not None
        await self.client.prepare_identity(None, recovery_key)
        self.show_identity()

    @work(group="identity", exclusive=True, exit_on_error=False)
    async def reset_identity(self, password: str) -> None:
        assert self.client is not None
        await self.client.reset_identity(password)
        self.show_identity()

    @work(group="identity", exclusive=True, exit_on_error=False)
    async def verify_own_device(self) -> None:
        """Ask the account's other devices; compare emoji with the first that accepts; then
        check that it signed this device."""
        import asyncio

        from tui.screens.verify import VerifyScreen

        assert self.client is not None
        try:
            flows = await self.client.verify_own_device()
        except MessengerError as e:
            self.client.identity.problem = str(e)
            self.show_identity()
            return
        self.notify(
            self.t.ngettext(
                "Asked your other device ({devices}): accept the request there.",
                "Asked your other devices ({devices}): accept the request there.",
                len(flows),
            ).format(devices=", ".join(f.other_device for f in flows)),
            title=self._("Verify this device"),
            timeout=20,
        )
        # The flows' ``changed`` events belong to the screen that follows them: poll states.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_S
        while all(f.state == "requested" for f in flows):  # noqa: ASYNC110
            if loop.time() > deadline:
                for f in flows:
                    with contextlib.suppress(MessengerError):
                        await f.cancel("no answer", "m.timeout")
                self.client.identity.problem = self.t.ngettext(
                    "No other device answered within {n} minute. "
                    "Try again, or use the recovery key.",
                    "No other device answered within {n} minutes. "
                    "Try again, or use the recovery key.",
                    ANSWER_S // 60,
                ).format(n=ANSWER_S // 60)
                self.show_identity()
                return
            await asyncio.sleep(0.2)
        flow = next(f for f in flows if f.state != "requested")
        for other in flows:
            if other is not flow:
                with contextlib.suppress(MessengerError):
                    await other.cancel("another device answered", "m.accepted")
        self.push_screen(VerifyScreen(flow))
        while flow.state not in {"done", "cancelled"}:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        if flow.state == "done":
            for _ in range(50):  # the other session signs this device right after "done"
                if (await self.client.check_cross_signed()).ok:
                    break
                await asyncio.sleep(0.2)
        if not self.client.identity.ok:
            self.client.identity.problem = (
                self._(
                    "The other session did not sign this device ({reason}). "
                    "Try again, or use the recovery key."
                ).format(reason=flow.cancel_reason)
                if flow.cancel_reason
                else self._(
                    "The other session did not sign this device. "
                    "Try again, or use the recovery key."
                )
            )
        if isinstance(self.screen, VerifyScreen):
            self.pop_screen()
        self.show_identity()

    def command_names(self) -> list[str]:
        """``!`` commands for completion: what the bots declare, plus their help answers."""
        if self.client is None:
            return list(self.declared_commands)
        msgs = [
            m for tl in self.client.timelines.values() for m in tl.messages.values() if m.structured
        ]
        return commands_from_help(msgs, self.declared_commands)

    # -- sync -----------------------------------------------------------------------------

    @work(exclusive=True, group="sync", exit_on_error=False)
    async def sync_loop(self) -> None:
        """Sync until the app ends; batches and connection changes come back as messages."""
        assert self.client is not None
        first = True

        async def on_changes(changes: Changes) -> None:
            nonlocal first
            self.post_message(Synced(changes))
            if first:
                first = False
                self.load_markers()
                self.fill_board()

        async def on_connection(ok: bool, text: str | None) -> None:
            self.post_message(Connection(ok, text))

        try:
            await self.client.run(on_changes, on_connection)
        except AuthError as e:
            self.notify(
                self._("the homeserver refused this session: {error}").format(error=e),
                severity="error",
                timeout=30,
            )

    @work(group="markers", exit_on_error=False)
    async def load_markers(self) -> None:
        assert self.client is not None
        await self.client.load_markers()
        if self.main:
            self.main.refresh_rooms()

    @work(group="board", exclusive=True, exit_on_error=False)
    async def fill_board(self) -> None:
        """Read each room's recent history once, so the dashboards show what bots posted
        before this run (cards with their latest edits), not only what sync brings next."""
        assert self.client is not None

        async def on_page(changes: Changes) -> None:
            self.post_message(Synced(changes))

        for room_id in self.client.board_rooms():
            try:
                await self.client.backfill(room_id, on_page)
            except MessengerError as e:
                log.warning("history of %s not read for the dashboards: %s", room_id, e)
        self.board_filled = True

    def on_synced(self, event: Synced) -> None:
        ch = event.changes
        if self.main is None or self.client is None:
            return
        self.main.refresh_rooms()
        current = self.main.room_id
        if current and current in ch.rooms:
            self.main.reload(current)
            if self.screen is self.main:
                self.mark_read(current)
        for msg in ch.mentions:
            self.bell()
            who = self.client.display_name(msg.sender)
            self.notify(f"{who}: {msg.body[:120]}", title=self._("You were mentioned"))
        if ch.board:
            refresh = getattr(self.screen, "refresh_board", None)
            if refresh:
                refresh()

    def on_connection(self, event: Connection) -> None:
        if self.main is not None:
            self.main.show_banner(None if event.ok else event.text)
        if event.ok:
            self.notify(self._("Connection to the homeserver restored."))

    # -- rooms and history ----------------------------------------------------------------

    def open_room(self, room_id: str) -> None:
        """Show a room, load its first page of history if needed, clear its counts."""
        if self.main is None or self.client is None:
            return
        if self.screen is not self.main:
            self.switch_screen(self.main) if len(self.screen_stack) > 1 else None
            while self.screen is not self.main and len(self.screen_stack) > 1:
                self.pop_screen()
        self.client.viewing = room_id
        self.main.show_room(room_id)
        self.call_after_refresh(gc.freeze)  # long-lived timeline objects: keep them out of GC
        if len(self.client.timeline(room_id)) < 30:
            self.load_history(room_id)
        self.mark_read(room_id)
        self.load_members(room_id)

    def open_message(self, room_id: str, event_id: str | None) -> bool:
        """Show a room with one of its messages (and its thread) in the side panel; False
        when that message is not loaded (yet)."""
        self.open_room(room_id)
        message = self.client.timeline(room_id).get(event_id) if self.client else None
        if self.main is not None and message is not None:
            self.main.open_thread(message)
        return message is not None

    @work(group="receipts", exit_on_error=False)
    async def mark_read(self, room_id: str) -> None:
        assert self.client is not None
        await self.client.mark_read(room_id)
        if self.main:
            self.main.refresh_rooms()

    @work(group="members", exit_on_error=False)
    async def load_members(self, room_id: str) -> None:
        assert self.client is not None
        try:
            await self.client.load_members(room_id)
        except MessengerError:
            return

    @work(group="history", exclusive=True, exit_on_error=False)
    async def load_history(self, room_id: str) -> None:
        """One older page; the view keeps its place."""
        assert self.client is not None
        assert self.main is not None
        view = self.main.query_one("#timeline", TimelineView)
        try:
            await self.client.back_paginate(room_id)
        except MessengerError as e:
            self.notify(
                self._("could not load older messages: {error}").format(error=e),
                severity="warning",
            )
        finally:
            view.loading = False
        self.main.reload(room_id)
        gc.freeze()

    # -- sending --------------------------------------------------------------------------

    def send(self, room_id: str, text: str, **kw: Any) -> Message:
        """Show the message at once; send it in a worker. The message gets its event ID
        when the homeserver confirms it."""
        assert self.client is not None
        msg = self.client.prepare(room_id, text, **kw)
        if self.main:
            self.main.reload(room_id)
        self.deliver(room_id, msg)
        return msg

    @work(group="send", exit_on_error=False)
    async def deliver(self, room_id: str, msg: Message) -> None:
        assert self.client is not None
        try:
            await self.client.deliver(room_id, msg)
        except MessengerError as e:
            self.notify(self._("not sent: {error}").format(error=e), severity="error")
        if self.main:
            self.main.reload(room_id)

    async def send_command(
        self, room_id: str, text: str, thread_root: str | None = None
    ) -> Message:
        """Send a bot command as the coordinator (dashboards use this)."""
        return self.send(room_id, text, thread_root=thread_root)

    def pick_reaction(self, room_id: str, event_id: str) -> None:
        def chosen(key: str | None) -> None:
            if key:
                self.react(room_id, event_id, key)

        self.push_screen(ReactionPicker(), chosen)

    @work(group="send", exit_on_error=False)
    async def react(self, room_id: str, event_id: str, key: str) -> None:
        assert self.client is not None
        try:
            await self.client.react(room_id, event_id, key)
        except MessengerError as e:
            self.notify(self._("reaction not sent: {error}").format(error=e), severity="error")

    def answer_invite(self, room_id: str) -> None:
        assert self.client is not None
        inv = self.client.invites.get(room_id)
        if inv is None:
            return

        def chosen(accept: bool | None) -> None:
            if accept is not None:
                self.invite_worker(room_id, accept)

        self.push_screen(InviteScreen(inv), chosen)

    @work(group="invites", exit_on_error=False)
    async def invite_worker(self, room_id: str, accept: bool) -> None:
        assert self.client is not None
        try:
            await (self.client.accept_invite if accept else self.client.decline_invite)(room_id)
        except MessengerError as e:
            self.notify(str(e), severity="error")
        if self.main:
            self.main.refresh_rooms()

    # -- verification ---------------------------------------------------------------------

    @work(group="verify-incoming", exit_on_error=False)
    async def verification_requests(self) -> None:
        """Show incoming emoji verification requests as they arrive."""
        assert self.client is not None
        queue = self.client.incoming_verifications()
        if queue is None:
            return
        from tui.screens.verify import VerifyScreen

        while True:
            v = await queue.get()
            who = self.client.display_name(v.other_user)
            asks = (
                self._("{who} ({user}) asks to verify in a room.")
                if v.room_id
                else self._("{who} ({user}) asks to verify from device {device}.")
            )
            self.bell()
            self.notify(
                asks.format(who=who, user=v.other_user, device=v.other_device)
                + " "
                + self._("Press a to accept, Esc to refuse."),
                title=self._("Verification request"),
                timeout=15,
            )
            self.push_screen(VerifyScreen(v, incoming=True))

    @work(group="verify", exit_on_error=False)
    async def start_verification(self, user_id: str, device_id: str) -> None:
        assert self.client is not None
        from tui.screens.verify import VerifyScreen

        try:
            v = await self.client.start_verification(user_id, device_id)
        except MessengerError as e:
            self.notify(
                self._("verification could not start: {error}").format(error=e), severity="error"
            )
            return
        self.push_screen(VerifyScreen(v))

    # -- language -------------------------------------------------------------------------

    def _(self, message: str) -> str:
        """``message`` (an English msgid) in the coordinator's language."""
        return self.t.gettext(message)

    def action_command_palette(self) -> None:
        """Textual's command palette, its search prompt in the coordinator's language."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            placeholder = self._("Search for commands…")
            self.push_screen(CommandPalette(placeholder=placeholder, id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Any:
        """Textual's own palette entries (theme, quit, keys …) in the coordinator's language."""
        for command in super().get_system_commands(screen):
            yield SystemCommand(
                self._(command.title), self._(command.help), command.callback, command.discover
            )

    # -- screens --------------------------------------------------------------------------

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_dashboards(self) -> None:
        if self.client is None:
            return
        from tui.screens.dashboards import DashboardScreen

        self.push_screen(DashboardScreen(self.client))

    def action_projects(self) -> None:
        if self.client is None:
            return
        from tui.screens.projects import ProjectsScreen

        self.push_screen(ProjectsScreen(self.client))

    def action_devices(self) -> None:
        if self.client is None:
            return
        from tui.screens.devices import DevicesScreen

        self.push_screen(DevicesScreen(self.client))

    def action_library(self) -> None:
        if self.client is None:
            return
        from tui.screens.library import LibraryScreen

        self.push_screen(LibraryScreen(self.client))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            QUIET_GC.touch()
        await super().on_event(event)

    async def on_unmount(self) -> None:
        QUIET_GC.stop()
        if self.client is not None:
            self.client.stop()
