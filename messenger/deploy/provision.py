"""Provides ``Provisioner``: reconcile space, rooms, members and power levels with the file."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from messenger.config import BOT_LEVEL, COORDINATOR_LEVEL, Group, OrgFile
from messenger.errors import MessengerError
from messenger.ids import server_of
from messenger.protocol import ROOM_MARKER
from messenger.session.core import Session
from messenger.session.rooms import INVITE_LEVEL, MEGOLM, Rooms

log = logging.getLogger(__name__)

SPACE_SLUG = "_space"
ROOM_SETTINGS = (
    ("join_rule", "m.room.join_rules", "join_rule", "invite"),
    ("guest_access", "m.room.guest_access", "guest_access", "forbidden"),
    ("history", "m.room.history_visibility", "history_visibility", "joined"),
)
"""(RoomState attribute, state event type, content key, the value every room has)."""


@dataclass
class Change:
    """One step ``apply`` would take, described for ``check``."""

    description: str
    run: Callable[[], Awaitable[None]] = field(repr=False)


@dataclass
class Report:
    """What ``apply`` did and what it could not do."""

    applied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass
class RoomState:
    """The parts of a room's state the provisioner reconciles."""

    room_id: str
    name: str = ""
    topic: str = ""
    encrypted: bool = False
    algorithm: str = ""
    join_rule: str = ""
    guest_access: str = ""
    history: str = ""
    power: dict[str, Any] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    children: set[str] = field(default_factory=set)
    marker: dict[str, Any] = field(default_factory=dict)
    creators: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, room_id: str, events: list[dict[str, Any]]) -> RoomState:
        """Read a room's state events."""
        st = cls(room_id)
        for ev in events:
            t, c, key = ev.get("type"), ev.get("content", {}), ev.get("state_key", "")
            if t == "m.room.name":
                st.name = c.get("name", "")
            elif t == "m.room.topic":
                st.topic = c.get("topic", "")
            elif t == "m.room.encryption":
                st.algorithm = str(c.get("algorithm", ""))
                st.encrypted = st.algorithm == MEGOLM
            elif t == "m.room.join_rules":
                st.join_rule = c.get("join_rule", "")
            elif t == "m.room.guest_access":
                st.guest_access = c.get("guest_access", "")
            elif t == "m.room.history_visibility":
                st.history = c.get("history_visibility", "")
            elif t == "m.room.power_levels":
                st.power = c
            elif t == "m.room.member":
                st.members[key] = c.get("membership", "leave")
            elif t == "m.space.child" and c.get("via"):
                st.children.add(key)
            elif t == ROOM_MARKER:
                st.marker = c
            elif t == "m.room.create" and _privileged_creators(c.get("room_version", "1")):
                # Room versions 12+ (MSC4289): creators outrank power levels and are not listed.
                st.creators = {ev.get("sender", ""), *c.get("additional_creators", [])}
        return st

    def present(self) -> set[str]:
        """Joined or invited users."""
        return {u for u, m in self.members.items() if m in {"join", "invite"}}


def _privileged_creators(version: str) -> bool:
    return version.isdigit() and int(version) >= 12


class Provisioner:
    """Brings the homeserver in line with the organisation file; ``plan`` changes nothing."""

    def __init__(self, session: Session, org: OrgFile) -> None:
        self.session = session
        self.rooms = Rooms(session)
        self.org = org
        self.me = session.user_id

    def levels_for(self, group: Group | None) -> dict[str, int]:
        """User → power level the file gives in ``group``'s room (the space: everyone's)."""
        levels = {self.me: 100}
        groups = [group] if group else self.org.groups
        for g in groups:
            for u in g.coordinators:
                levels[u] = COORDINATOR_LEVEL
        for bot in self.org.bot_user_ids().values():
            levels[bot] = BOT_LEVEL
        return levels

    def wanted_members(self, group: Group | None) -> set[str]:
        """Who belongs in ``group``'s room (the space: everyone), bots included."""
        people = set(group.everyone) if group else {u for g in self.org.groups for u in g.everyone}
        return people | set(self.org.bot_user_ids().values())

    async def existing(self) -> dict[str, RoomState]:
        """Provisioned rooms this account is in, by slug."""
        found: dict[str, RoomState] = {}
        for room_id in await self.rooms.joined_rooms():
            try:
                st = RoomState.parse(room_id, await self.rooms.all_state(room_id))
            except MessengerError as e:
                log.warning("cannot read %s: %s", room_id, e)
                continue
            slug = st.marker.get("slug")
            if (
                isinstance(slug, str)
                and st.marker.get("organisation") == self.org.organisation.name
            ):
                found[slug] = st
        return found

    async def plan(self) -> list[Change]:
        """Every change needed; empty when the homeserver already matches the file."""
        existing = await self.existing()
        changes: list[Change] = []
        space = existing.get(SPACE_SLUG)
        space_id: list[str] = [space.room_id] if space else []
        if space is None:
            changes.append(
                Change(
                    f"create space {self.org.organisation.name!r}",
                    lambda: self._create(None, space_id),
                )
            )
        else:
            changes += self._diff(space, None)
        for group in self.org.groups:
            st = existing.get(group.slug)
            if st is None:
                changes.append(
                    Change(
                        f"create encrypted room {group.name!r} "
                        f"({group.kind.replace('_', ' ')}), invite "
                        f"{len(self.wanted_members(group))} members",
                        partial(self._create, group, space_id),
                    )
                )
            else:
                changes += self._diff(st, group)
                if space is not None and st.room_id not in space.children:
                    changes.append(
                        Change(
                            f"add {group.name!r} to the space",
                            partial(self._link, space.room_id, st.room_id),
                        )
                    )
        return changes

    async def apply(self) -> Report:
        """Carry out the plan; failures (e.g. an unknown user) are reported, not fatal."""
        report = Report()
        for change in await self.plan():
            try:
                await change.run()
                report.applied.append(change.description)
            except MessengerError as e:
                report.failed.append(f"{change.description}: {e}")
        return report

    async def _create(self, group: Group | None, space_id: list[str]) -> None:
        server = server_of(self.me)
        name = group.name if group else self.org.organisation.name
        marker = {
            "slug": group.slug if group else SPACE_SLUG,
            "organisation": self.org.organisation.name,
            "kind": group.kind if group else "space",
        }
        state = [{"type": ROOM_MARKER, "state_key": "", "content": marker}]
        if group and space_id:
            state.append(
                {
                    "type": "m.space.parent",
                    "state_key": space_id[0],
                    "content": {"via": [server], "canonical": True},
                }
            )
        wanted = sorted(self.wanted_members(group) - {self.me})
        room_id = await self.rooms.create(
            name,
            topic=group.topic if group else "",
            space=group is None,
            invite=[],
            power_users=self.levels_for(group),
            extra_state=state,
        )
        for user in wanted:
            try:
                await self.rooms.invite(room_id, user)
            except MessengerError as e:
                log.warning("could not invite %s to %s: %s", user, name, e)
        if group is None:
            space_id.append(room_id)
        elif space_id:
            await self._link(space_id[0], room_id)

    async def _link(self, space_id: str, room_id: str) -> None:
        await self.rooms.put_state(
            space_id, "m.space.child", {"via": [server_of(self.me)]}, room_id
        )

    def _diff(self, st: RoomState, group: Group | None) -> list[Change]:
        label = group.name if group else f"space {self.org.organisation.name!r}"
        rid = st.room_id
        out: list[Change] = []
        name = group.name if group else self.org.organisation.name
        if st.name != name:
            out.append(
                Change(
                    f"{label}: rename to {name!r}",
                    lambda: self.rooms.put_state(rid, "m.room.name", {"name": name}),
                )
            )
        topic = group.topic if group else ""
        if group and st.topic != topic:
            out.append(
                Change(
                    f"{label}: set topic",
                    lambda: self.rooms.put_state(rid, "m.room.topic", {"topic": topic}),
                )
            )
        if not st.encrypted:
            out.append(
                Change(
                    f"{label}: turn on encryption",
                    lambda: self.rooms.put_state(rid, "m.room.encryption", {"algorithm": MEGOLM}),
                )
            )
        for attr, etype, key, value in ROOM_SETTINGS:
            if getattr(st, attr) != value:
                out.append(
                    Change(
                        f"{label}: set {key} to {value}",
                        partial(self.rooms.put_state, rid, etype, {key: value}),
                    )
                )
        levels = {u: v for u, v in self.levels_for(group).items() if u not in st.creators}
        current = {u: int(v) for u, v in st.power.get("users", {}).items()}
        if current != levels or st.power.get("invite", 0) != INVITE_LEVEL:
            changed = sorted(
                u for u in set(current) | set(levels) if current.get(u, 0) != levels.get(u, 0)
            )
            if st.power.get("invite", 0) != INVITE_LEVEL:
                changed.append(f"invite (to {INVITE_LEVEL})")
            power = {**st.power, "users": levels, "invite": INVITE_LEVEL}
            out.append(
                Change(
                    f"{label}: set power levels of {', '.join(changed)}",
                    partial(self.rooms.put_state, rid, "m.room.power_levels", power),
                )
            )
        wanted = self.wanted_members(group)
        present = st.present()
        for user in sorted(wanted - present - {self.me}):
            if st.members.get(user) == "ban":
                continue
            out.append(Change(f"{label}: invite {user}", partial(self.rooms.invite, rid, user)))
        for user in sorted(present - wanted - {self.me}):
            out.append(
                Change(
                    f"{label}: remove {user} (no longer in the organisation file)",
                    partial(self.rooms.kick, rid, user, "removed from the organisation file"),
                )
            )
        return out
