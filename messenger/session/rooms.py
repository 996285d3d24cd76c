"""Provides room operations on a Session: create, invite, kick, join, state and power levels."""

from __future__ import annotations

from typing import Any

from nio import RoomVisibility

from messenger.calls import guarded
from messenger.config import COORDINATOR_LEVEL
from messenger.errors import NotFound
from messenger.session.core import Session

MEGOLM = "m.megolm.v1.aes-sha2"
INVITE_LEVEL = COORDINATOR_LEVEL
"""Who may invite: coordinators (the organisation file decides who is in)."""


def encryption_state(
    rotation_period_ms: int | None = None, rotation_period_msgs: int | None = None
) -> dict[str, Any]:
    """The ``m.room.encryption`` initial state event."""
    content: dict[str, Any] = {"algorithm": MEGOLM}
    if rotation_period_ms:
        content["rotation_period_ms"] = rotation_period_ms
    if rotation_period_msgs:
        content["rotation_period_msgs"] = rotation_period_msgs
    return {"type": "m.room.encryption", "state_key": "", "content": content}


class Rooms:
    """Room-level actions of one account; every failure is a typed MessengerError."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.c = session.client

    async def create(
        self,
        name: str,
        *,
        topic: str = "",
        space: bool = False,
        invite: list[str] | None = None,
        power_users: dict[str, int] | None = None,
        extra_state: list[dict[str, Any]] | None = None,
    ) -> str:
        """Create an encrypted, invite-only room (or space) without guests; return its ID."""
        state = [
            encryption_state(),
            {
                "type": "m.room.guest_access",
                "state_key": "",
                "content": {"guest_access": "forbidden"},
            },
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": "joined"},
            },
            *(extra_state or []),
        ]
        # Room versions 12+ make the creator privileged and refuse it in the users map.
        power = {
            "users": {u: v for u, v in (power_users or {}).items() if u != self.s.user_id},
            "invite": INVITE_LEVEL,  # only coordinators bring people in; the file decides
        }
        resp = await guarded(
            self.c.room_create(
                visibility=RoomVisibility.private,
                name=name,
                topic=topic or None,
                preset=None,
                invite=invite or [],
                initial_state=state,
                power_level_override=power,
                space=space,
            ),
            f"creating room {name!r}",
        )
        return str(resp.room_id)

    async def get_state(
        self, room_id: str, event_type: str, state_key: str = ""
    ) -> dict[str, Any] | None:
        """One state event's content, or None when absent."""
        try:
            resp = await guarded(
                self.c.room_get_state_event(room_id, event_type, state_key), f"reading {event_type}"
            )
        except NotFound:
            return None
        content = getattr(resp, "content", None)
        return content if isinstance(content, dict) else None

    async def all_state(self, room_id: str) -> list[dict[str, Any]]:
        """Every current state event of a room."""
        resp = await guarded(self.c.room_get_state(room_id), "reading room state")
        return list(resp.events)

    async def put_state(
        self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = ""
    ) -> None:
        """Set one state event."""
        await guarded(
            self.c.room_put_state(room_id, event_type, content, state_key), f"setting {event_type}"
        )

    async def members(self, room_id: str) -> dict[str, str]:
        """User ID → membership (join, invite, leave, ban) of every member event."""
        out = {}
        for ev in await self.all_state(room_id):
            if ev.get("type") == "m.room.member":
                out[ev["state_key"]] = ev.get("content", {}).get("membership", "leave")
        return out

    async def invite(self, room_id: str, user_id: str) -> None:
        """Invite a user."""
        await guarded(self.c.room_invite(room_id, user_id), f"inviting {user_id}")

    async def kick(self, room_id: str, user_id: str, reason: str = "") -> None:
        """Remove a user from a room."""
        await guarded(self.c.room_kick(room_id, user_id, reason or None), f"removing {user_id}")

    async def join(self, room_id: str) -> None:
        """Join a room we are invited to."""
        await guarded(self.c.join(room_id), f"joining {room_id}")
        self.s.joined.add(room_id)

    async def leave(self, room_id: str) -> None:
        """Leave (or reject the invite to) a room."""
        await guarded(self.c.room_leave(room_id), f"leaving {room_id}")
        self.s.joined.discard(room_id)

    async def joined_rooms(self) -> list[str]:
        """Rooms this account has joined."""
        resp = await guarded(self.c.joined_rooms(), "listing joined rooms")
        return list(resp.rooms)

    def joined_members(self, room_id: str) -> set[str]:
        """Joined members as of the last sync (no request; may lag a sync behind)."""
        room = self.c.rooms.get(room_id)
        return set(room.users) - set(room.invited_users) if room else set()

    def power_level(self, room_id: str, user_id: str) -> int:
        """A user's power level in a room, from the power levels kept current from sync."""
        cached = self.s.state.power_level(room_id, user_id)
        if cached is not None:
            return cached
        room = self.c.rooms.get(room_id)
        return int(room.power_levels.get_user_level(user_id)) if room else 0
