"""Provides the onboarding load/save functions over the hosting bot's sealed state store.

Skills live here (sealed), never in profiles, room state or account data, which the
homeserver can read. Keys are identifiers (user and room IDs); values are sealed.
"""

from __future__ import annotations

from bots.onboard.model import RoomOnboarding, SkillSet, Welcomed
from messenger.store import StateStore, Tx

SKILLS = "onboard-skills"  # key: user ID → SkillSet
ROOMS = "onboard-rooms"  # key: room ID → RoomOnboarding
WELCOMED = "onboard-welcomed"  # key: "<room ID>|<user ID>" → Welcomed

Reader = Tx | StateStore


def welcome_key(room_id: str, user_id: str) -> str:
    """The key of a member's welcome in a room (room and user IDs contain no ``|``)."""
    return f"{room_id}|{user_id}"


async def load_skills(tx: Reader, user_id: str) -> SkillSet:
    """A member's skills (empty when they listed none)."""
    raw = await tx.get(SKILLS, user_id)
    return SkillSet.model_validate(raw) if raw else SkillSet()


async def save_skills(tx: Tx, user_id: str, skills: SkillSet) -> None:
    """Store a member's skills (an empty set is deleted)."""
    if skills.skills:
        await tx.put(SKILLS, user_id, skills.model_dump(mode="json"))
    else:
        await tx.delete(SKILLS, user_id)


async def all_skills(tx: Reader) -> dict[str, SkillSet]:
    """User ID → skills, for everyone who listed any."""
    return {k: SkillSet.model_validate(v) for k, v in await tx.items(SKILLS)}


async def load_room(tx: Reader, room_id: str) -> RoomOnboarding:
    """A room's onboarding switch (welcomes on unless a coordinator turned them off)."""
    raw = await tx.get(ROOMS, room_id)
    return RoomOnboarding.model_validate(raw) if raw else RoomOnboarding()


async def save_room(tx: Tx, room_id: str, room: RoomOnboarding) -> None:
    """Store a room's onboarding switch."""
    await tx.put(ROOMS, room_id, room.model_dump(mode="json"))


async def welcomed(tx: Reader, room_id: str, user_id: str) -> Welcomed | None:
    """The welcome a member got in a room, or None."""
    raw = await tx.get(WELCOMED, welcome_key(room_id, user_id))
    return Welcomed.model_validate(raw) if raw else None


async def mark_welcomed(tx: Tx, room_id: str, user_id: str, record: Welcomed) -> None:
    """Record the welcome in the transaction that queues it."""
    await tx.put(WELCOMED, welcome_key(room_id, user_id), record.model_dump(mode="json"))
