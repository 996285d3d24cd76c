"""Provides the room checks: encryption, join rule, guests, history, space, power, members, marker.

Pure: each check reads a ``RoomState`` (as the provisioner reads it) and what the organisation
file wants (the provisioner's own ``levels_for`` and ``wanted_members``), so the audit and
``org apply`` can never disagree about what is right. Every room finding is fixable by it.
"""

from __future__ import annotations

from messenger.config import Group
from messenger.deploy.provision import ROOM_SETTINGS, Provisioner, RoomState
from messenger.protocol.audit import Finding, Severity
from messenger.session.rooms import INVITE_LEVEL, MEGOLM

# How bad a wrong value of each fixed setting is: a public or guest-readable room is exposed.
SETTING_SEVERITY: dict[str, Severity] = {
    "join_rule": "critical",
    "guest_access": "high",
    "history": "medium",
}
HISTORY_SEVERITY: dict[str, Severity] = {
    "world_readable": "critical",
    "shared": "medium",
    "invited": "low",
}


def room_finding(
    group: Group,
    severity: Severity,
    code: str,
    setting: str = "",
    value: str = "",
    expected: str = "",
) -> Finding:
    """A finding about ``group``'s room, which ``samverkan audit --fix`` fixes."""
    return Finding(
        severity=severity, code=code, subject=group.name, room=group.slug, fixable=True,
        setting=setting, value=value, expected=expected,
    )  # fmt: skip


def check_room(
    prov: Provisioner, group: Group, st: RoomState | None, space: RoomState | None
) -> list[Finding]:
    """Every finding about ``group``'s room (``st`` None: it does not exist or lost its marker)."""
    if st is None:
        return [room_finding(group, "high", "room.missing", expected=group.kind)]
    out = []
    if st.algorithm != MEGOLM:
        value = st.algorithm or "off"
        out.append(
            room_finding(group, "critical", "room.encryption", "m.room.encryption", value, MEGOLM)
        )
    for attr, etype, key, wanted in ROOM_SETTINGS:
        value = str(getattr(st, attr))
        if value != wanted:
            severity = SETTING_SEVERITY[attr]
            if attr == "history":
                severity = HISTORY_SEVERITY.get(value, "medium")
            code = f"room.{key.replace('_', '-')}"
            out.append(
                room_finding(group, severity, code, f"{etype} {key}", value or "unset", wanted)
            )
    if space is not None and st.room_id not in space.children:
        out.append(room_finding(group, "low", "room.not-in-space", "m.space.child"))
    out += _power(prov, group, st)
    out += _members(prov, group, st)
    kind = str(st.marker.get("kind"))
    if kind != group.kind:
        out.append(
            room_finding(group, "low", "room.marker", "org.samverkan.room kind", kind, group.kind)
        )
    return out


def _power(prov: Provisioner, group: Group, st: RoomState) -> list[Finding]:
    wanted = {u: v for u, v in prov.levels_for(group).items() if u not in st.creators}
    current = {user: _int(level) for user, level in st.power.get("users", {}).items()}
    default = _int(st.power.get("users_default", 0))
    out = []
    for user in sorted(set(current) | set(wanted)):
        have, want = current.get(user, default), wanted.get(user, 0)
        if have != want:
            more = have > want
            out.append(
                room_finding(
                    group,
                    "high" if more else "medium",
                    "room.power-excess" if more else "room.power-missing",
                    f"m.room.power_levels {user}",
                    str(have),
                    str(want),
                )
            )
    if default > 0:
        setting = "m.room.power_levels users_default"
        out.append(room_finding(group, "high", "room.power-default", setting, str(default), "0"))
    invite = _int(st.power.get("invite", 0))
    if invite != INVITE_LEVEL:
        setting = "m.room.power_levels invite"
        out.append(
            room_finding(
                group, "medium", "room.invite-level", setting, str(invite), str(INVITE_LEVEL)
            )
        )
    return out


def _members(prov: Provisioner, group: Group, st: RoomState) -> list[Finding]:
    wanted = prov.wanted_members(group) | {prov.me}
    out = [
        room_finding(group, "high", "room.unexpected-member", user, st.members[user])
        for user in sorted(st.present() - wanted)
    ]
    for user in sorted(wanted - st.present() - {prov.me}):
        if st.members.get(user) != "ban":
            value = st.members.get(user, "none")
            out.append(room_finding(group, "low", "room.missing-member", user, value, "invite"))
    return out


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return 0
