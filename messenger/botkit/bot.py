"""Provides ``Bot``: command dispatch with exactly-once handling, threaded notices and help."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from messenger.botkit.builtins import help_command, ignore_unauthenticated, locale_command
from messenger.botkit.commands import (
    Command,
    CommandError,
    Commands,
    CommandTable,
    PermissionDenied,
    declared_commands,
    is_command,
    tokenize,
)
from messenger.botkit.context import Context, txn_for
from messenger.botkit.prefs import Preferences
from messenger.botkit.utd import post_undecryptable_notice
from messenger.config import Group, OrgFile
from messenger.e2ee.backup import KeyBackup
from messenger.e2ee.trust import CrossSigning
from messenger.e2ee.verification import VerificationManager
from messenger.errors import MessengerError, RateLimited, TransientError
from messenger.events import Incoming, SyncBatch
from messenger.faults import crash_point
from messenger.i18n import N_, Translator, translator
from messenger.poison import poison_check
from messenger.protocol import ROOM_MARKER, Notice
from messenger.session.core import Session
from messenger.session.rooms import Rooms
from messenger.store import StateStore, Tx

log = logging.getLogger(__name__)

HANDLE_CHUNK = 64
TRANSIENT_RETRIES = 3
PLAINTEXT_OK = frozenset({"m.reaction", "m.room.redaction"})
"""Event types Element sends unencrypted even in encrypted rooms: honoured as RSVPs only."""


class Peer(Protocol):
    """What a bot reads of the organisation's bots (itself included, in this process or not):
    the overview of ``!help`` and whether some bot knows a command word."""

    @property
    def name(self) -> str: ...

    @property
    def user_id(self) -> str: ...

    @property
    def table(self) -> CommandTable: ...


class Bot:
    """A bot account: declared commands, exactly-once dispatch, invite policy, help.

    Subclasses declare commands with ``@command`` and may override ``on_event`` (non-command
    events such as reactions), ``on_message`` (plain messages) and ``on_tick`` (timers).
    """

    name = "bot"
    GROUPS: tuple[type[Commands[Any]], ...] = ()
    """The bot's command groups (``Commands`` subclasses); the bot makes one of each."""

    def __init__(self, session: Session, org: OrgFile) -> None:
        self.session = session
        self.org = org
        self.rooms = Rooms(session)
        self.groups: list[object] = [group(self) for group in self.GROUPS]
        """The command groups composed into this bot, one object per class in ``GROUPS``."""
        self._table: CommandTable | None = None
        self.peers: list[Bot] = [self]
        """The bots this process hosts (the runtime sets it)."""
        self.everyone: Sequence[Peer] = [self]
        """Every bot of the organisation, in this process or another, in the file's order."""
        self.primary = True
        self._joined_ts: dict[str, int] = {}
        self._retries: dict[str, int] = {}
        self.prefs = Preferences(session.store)
        """Members' language and timezone; the runtime gives every bot the same one."""
        self.shared: StateStore = session.store
        """The deployment's store, for records bots hand each other (``botkit.shared``)."""
        self.clock: Callable[[], int] = lambda: int(time.time() * 1000)
        self.cross_signing = CrossSigning(session)
        self.backup = KeyBackup(session, self.cross_signing)
        self.trust_summary: dict[str, bool] = {}
        session.on_undecryptable = functools.partial(post_undecryptable_notice, self)

        self.verifier = VerificationManager(
            session, self.cross_signing, auto_accept=self.is_coordinator_anywhere
        )

    @property
    def user_id(self) -> str:
        """The bot's Matrix ID."""
        return self.session.user_id

    @property
    def store(self) -> StateStore:
        """The bot's encrypted state store."""
        return self.session.store

    @property
    def table(self) -> CommandTable:
        """Every command this bot declares: on itself and on its command groups."""
        if self._table is None:
            found = declared_commands(self)
            for group in self.groups:
                found += declared_commands(group)
            self._table = CommandTable(found)
        return self._table

    # -- organisation ---------------------------------------------------------------------

    def org_users(self) -> set[str]:
        """Everyone the organisation file names, plus the bots and the service account."""
        users = {self.org.service_user_id(), *self.org.bot_user_ids().values()}
        for g in self.org.groups:
            users.update(g.everyone)
        return users

    def is_coordinator_anywhere(self, user_id: str) -> bool:
        """Whether the organisation file names ``user_id`` a coordinator of some group."""
        return any(user_id in g.coordinators for g in self.org.groups)

    async def device_trusted(self, event: Incoming) -> bool:
        """Whether the device that sent ``event`` is verified (by SAS, or cross-signed by a
        user this bot verified). Unencrypted events and unknown devices never are."""
        if not event.encrypted or event.sender_device is None:
            return False
        if event.device_verified or event.device_deleted:
            return event.device_verified  # a deleted device: as trusted as it was then
        try:
            trusted = await self.cross_signing.device_trusted(event.sender, event.sender_device)
        except MessengerError:
            return False
        if trusted:
            self.session.note_device_trusted(event.sender, event.sender_device)
        return trusted

    async def group_of(self, room_id: str) -> Group | None:
        """The working group or partnership a room belongs to (from its provisioning marker,
        which the session's state cache keeps; read from the server once if not known)."""
        marker = self.session.state.marker(room_id)
        if marker is None:
            marker = await self.store.get("rooms", room_id)  # kept by earlier versions
            if marker is None:
                try:
                    marker = await self.rooms.get_state(room_id, ROOM_MARKER) or {}
                except (TransientError, RateLimited):
                    raise  # the batch is retried: its commands must not be lost
                except MessengerError:
                    return None
            self.session.state.set_marker(room_id, marker)
        slug = marker.get("slug")
        return next((g for g in self.org.groups if g.slug == slug), None)

    # -- the sync handler -----------------------------------------------------------------

    async def handle_batch(self, batch: SyncBatch) -> None:
        """Join organisation rooms, refuse others, and handle each new event exactly once."""
        await self.verifier.handle(batch.to_device)
        for invite in batch.invites:
            await self._on_invite(invite.room_id, invite.inviter)
        # The bot's own joins first: what happened in a room before the bot joined it (earlier
        # in this same batch) is not new to the bot.
        for event in batch.events:
            if event.type == "m.room.member" and event.state_key == self.user_id:
                if event.content.get("membership") == "join":
                    self._joined_ts.setdefault(event.room_id, event.ts)
        todo = []
        for event in batch.events:
            if (
                batch.initial
                or event.sender == self.user_id
                or event.ts < self._joined_ts.get(event.room_id, 0)
            ):
                continue
            todo.append(event)
        await self._handle_all(todo)
        try:
            await self.after_batch(batch)
        except (TransientError, RateLimited):
            raise  # the batch is retried
        except Exception:
            log.exception("%s: after-batch work failed (the events stay handled)", self.user_id)
        self.session.wake_outbox()
        if self.backup.version is not None:
            try:
                await self.backup.upload_new()
            except MessengerError as e:
                log.warning("%s: key backup upload failed (retried next sync): %s", self.user_id, e)

    async def _on_invite(self, room_id: str, inviter: str | None) -> None:
        if not room_id.startswith("!"):
            return
        if inviter == self.org.service_user_id():
            try:
                await self.rooms.join(room_id)
            except MessengerError as e:
                log.warning("%s could not join %s: %s", self.user_id, room_id, e)
        else:
            log.info(
                "%s refuses an invite to %s from %s (not the organisation)",
                self.user_id,
                room_id,
                inviter,
            )
            try:
                await self.rooms.leave(room_id)
            except MessengerError as e:
                log.warning("%s could not reject the invite to %s: %s", self.user_id, room_id, e)

    async def _handle_all(self, events: list[Incoming]) -> None:
        """Handle new events, up to ``HANDLE_CHUNK`` per store transaction.

        Each event runs in its own savepoint: its writes, queued replies and processed mark
        commit together with the others of its chunk, or (a crash) none of them do and the
        whole chunk is handled again. A failing handler undoes only its own event's writes.
        """
        done = await self.store.processed_among([e.event_id for e in events])
        events = [e for e in events if e.event_id not in done]
        groups = {r: await self.group_of(r) for r in dict.fromkeys(e.room_id for e in events)}
        for i in range(0, len(events), HANDLE_CHUNK):
            async with self.store.transaction() as tx:
                for event in events[i : i + HANDLE_CHUNK]:
                    await self._handle(tx, event, groups[event.room_id])
            crash_point("command-committed")
            self.session.wake_outbox()  # the replies go out now, not after the batch's hooks

    async def _handle(self, tx: Tx, event: Incoming, group: Group | None) -> None:
        """Handle one event in its own savepoint. A failure is isolated: a transient one
        (the network, the homeserver) fails the batch so it is retried, at most
        ``TRANSIENT_RETRIES`` times for one event; anything else — or the last retry — undoes
        the event's writes, answers once that it could not be handled, and marks it done,
        so the events after it (in this room and others) go on."""
        try:
            async with tx.savepoint("event"):
                poison_check(event.body)
                await self.dispatch(Context(self, event, tx, group))
                await tx.mark_processed(event.event_id)
            return
        except (TransientError, RateLimited) as e:
            if self._retries.get(event.event_id, 0) < TRANSIENT_RETRIES:
                self._retries[event.event_id] = self._retries.get(event.event_id, 0) + 1
                log.warning(
                    "%s: %s hit a transient failure (%s); the batch is retried",
                    self.user_id,
                    event.event_id,
                    e,
                )
                raise
            log.error("%s: giving up on %s after retries: %s", self.user_id, event.event_id, e)
        except Exception:
            log.exception("%s failed on %s", self.user_id, event.event_id)
        self._retries.pop(event.event_id, None)
        try:
            async with tx.savepoint("failed"):
                if event.is_message and is_command(event.body) and self._obeys(event, group):
                    ctx = Context(self, event, tx, group)
                    await ctx.fail(
                        ctx._(
                            "something went wrong on our side; the command was not carried "
                            "out. Please try again; if it keeps failing, tell a coordinator."
                        )
                    )
        except Exception:
            log.exception("%s: could not say that %s failed", self.user_id, event.event_id)
        await tx.mark_processed(event.event_id)

    def _obeys(self, event: Incoming, group: Group | None) -> bool:
        """Whether this bot acts on ``event`` at all: an organisation sender in an organisation
        room, and — the rooms being encrypted — end-to-end encrypted from an authenticated
        device of the sender (reactions and redactions excepted: RSVPs only)."""
        if event.sender not in self.org_users() or group is None:
            return False
        if event.state_key is not None or event.type in PLAINTEXT_OK:
            return True
        return event.encrypted and event.sender_device is not None

    async def dispatch(self, ctx: Context) -> None:
        """Route one event: commands to their handlers, anything else to the hooks."""
        event = ctx.event
        if event.sender not in self.org_users() or ctx.group is None:
            return  # not the organisation's: ignored by design
        if not self._obeys(event, ctx.group):
            await ignore_unauthenticated(self, ctx)
            return
        if not (
            event.is_message and event.content.get("msgtype") == "m.text" and is_command(event.body)
        ):
            if event.is_message and event.content.get("msgtype") in {"m.text", "m.emote"}:
                await self.on_message(ctx)
            else:
                await self.on_event(ctx)
            return
        raw = self.table.match_raw(event.body)
        if raw is not None:
            await self._invoke(ctx, *raw)
            return
        try:
            words = tokenize(event.body)
        except CommandError as e:
            if self.primary:
                await ctx.fail(e.render(ctx.t))
            return
        await self._run_command(ctx, words)

    async def _run_command(self, ctx: Context, words: list[str]) -> None:
        head = words[0].lower() if words else ""
        if head == "help":
            return await help_command(self, ctx, overview=True) if self.primary else None
        if head == "ping":
            pong = ctx._("pong from {bot}").format(bot=self.name)
            await ctx.reply(pong, data=Notice(kind="pong", bot=self.name))
            return None
        if head == "locale":
            return await locale_command(self, ctx, words[1:]) if self.primary else None
        own_names = {self.name, self.user_id.split(":")[0].lstrip("@")}
        if head in own_names and [w.lower() for w in words[1:]] == ["help"]:
            return await help_command(self, ctx, overview=False)
        found = self.table.match(words)
        if found is None and head in own_names and len(words) == 1:
            return await help_command(self, ctx, overview=False)
        if found is None:
            if head in self.table.namespaces:
                names = ", ".join(f"!{c.name}" for c in self.table.in_namespace(head))
                return await ctx.fail(
                    ctx._("unknown command !{command}; try one of: {names}").format(
                        command=" ".join(words[:2]), names=names
                    )
                )
            if self.primary and not any(head in p.table.namespaces for p in self.everyone):
                return await ctx.fail(
                    ctx._("unknown command !{command}; send !help to see every command").format(
                        command=head
                    )
                )
            return None
        cmd, rest = found
        await self._invoke(ctx, cmd, rest)

    async def _invoke(self, ctx: Context, cmd: Command, rest: list[str] | str) -> None:
        """Check trust and power, bind the arguments, run the handler in a savepoint."""
        if ctx.group is not None and ctx.group.trust == "verified":
            if not await self.device_trusted(ctx.event):
                return await ctx.fail(
                    ctx._(
                        "this room accepts commands only from verified devices, and the device "
                        "you sent this from is not verified. Verify it with a coordinator or "
                        "with this bot ({bot}: emoji verification) and send the command again."
                    ).format(bot=self.user_id)
                )
        try:
            if cmd.power and ctx.power() < cmd.power:
                raise PermissionDenied(
                    N_(
                        "!{name} needs power level {needed} in this room (coordinators have "
                        "{needed}); yours is {yours}"
                    ),
                    cmd,
                    name=cmd.name,
                    needed=cmd.power,
                    yours=ctx.power(),
                )
            kwargs = cmd.bind_raw(rest) if isinstance(rest, str) else cmd.bind(rest)
            async with ctx.tx.savepoint():
                await cmd.func(ctx, **kwargs)
        except CommandError as e:
            await ctx.fail(e.render(ctx.t), e.command or cmd)

    def locale_for(self, user_id: str, room_id: str, group: Group | None) -> str:
        """The language of replies to ``user_id`` in ``room_id``."""
        return self.prefs.locale(self.org, user_id, room_id, group)

    def room_locale(self, room_id: str, group: Group | None) -> str:
        """The language of what the room shares (cards)."""
        return self.prefs.room_locale(self.org, room_id, group)

    async def room_translator(self, room_id: str) -> Translator:
        """The room's language, for what the room shares: cards, reminders, flags."""
        try:
            group = await self.group_of(room_id)
        except MessengerError:
            group = None
        return translator(self.room_locale(room_id, group))

    # -- hooks ----------------------------------------------------------------------------

    async def on_message(self, ctx: Context) -> None:
        """A plain (non-command) message in an organisation room."""

    async def on_event(self, ctx: Context) -> None:
        """Any other event (reactions, redactions, polls …)."""

    async def on_tick(self, now_ms: int) -> None:
        """Called about once a second by the runtime: timers live here."""

    async def after_batch(self, batch: SyncBatch) -> None:
        """Called once a sync batch is handled (e.g. to send one edit per changed card)."""

    async def close(self) -> None:
        """Release what the bot holds (HTTP sessions …); the runtime calls it on stop."""

    def now_ms(self) -> int:
        """The bot's clock in ms (tests replace ``clock`` to move time)."""
        return self.clock()

    async def queue(
        self,
        tx: Tx,
        room_id: str,
        content: dict[str, Any],
        *,
        cause: str,
        key: str | None = None,
        event_type: str = "m.room.message",
    ) -> str:
        """Queue a message not caused by an incoming event (a reminder, a timer).

        ``cause`` names what caused it (e.g. ``reminder:ID:1h``) and fixes the transaction ID,
        so the same cause never sends twice. Returns the outbox key.
        """
        key = key or f"cause:{cause}"
        await tx.enqueue(
            room_id, content, txn_id=txn_for(self.user_id, cause), key=key, event_type=event_type
        )
        return key
