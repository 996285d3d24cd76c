"""Provides the room checks: encryption, join rule, guests, history, space, power, members, marker.

Pure: each check reads a ``RoomState`` (as the provisioner reads it) and what the organisation
file wants (the provisioner's own ``levels_for`` and ``wanted_members``), so the audit and
``org apply`` can never disagree about what is right.
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
EXPOSED_HISTORY = {"world_readable": "critical", "shared": "medium", "invited": "low"}


def check_room(
    prov: Provisioner, group: Group, st: RoomState | None, space: RoomState | None
) -> list[Finding]:
    """Every finding about ``group``'s room (``st`` None: it does not exist or lost its marker)."""
    slug, name = group.slug, group.name

    def finding(
        severity: Severity, code: str, setting: str = "", value: str = "", expected: str = ""
    ) -> Finding:
        return Finding(
            severity=severity, code=code, subject=name, room=slug, fixable=True,
            setting=setting, value=value, expected=expected,
        )  # fmt: skip

    if st is None:
        return [finding("high", "room.missing", expected=group.kind)]
    out = []
    if st.algorithm != MEGOLM:
        out.append(
            finding(
                "critical",
                "room.encryption",
                setting="m.room.encryption",
                value=st.algorithm or "off",
                expected=MEGOLM,
            )
        )
    for attr, etype, key, wanted in ROOM_SETTINGS:
        value = str(getattr(st, attr))
        if value != wanted:
            severity = SETTING_SEVERITY[attr]
            if attr == "history":
                severity = EXPOSED_HISTORY.get(value, "medium")  # type: ignore[assignment]
            out.append(
                finding(
                    severity,
                    f"room.{key.replace('_', '-')}",
                    setting=f"{etype} {key}",
                    value=value or "unset",
                    expected=wanted,
                )
            )
    if space is not None and st.room_id not in space.children:
        out.append(finding("low", "room.not-in-space", setting="m.space.child"))
    out += _power(prov, group, st)
    out += _members(prov, group, st)
    if st.marker.get("kind") != group.kind:
        out.append(
            finding(
                "low",
                "room.marker",
                setting="org.samverkan.room kind",
                value=str(st.marker.get("kind")),
                expected=group.kind,
            )
        )
    return out


def _power(prov: Provisioner, group: Group, st: RoomState) -> list[Finding]:
    wanted = {u: v for u, v in prov.levels_for(group).items() if u not in st.creators}
    current: dict[str, int] = {}
    for user, level in st.power.get("users", {}).items():
        try:
            current[user] = int(level)
        except (TypeError, ValueError):
            current[user] = 0
    default = _int(st.power.get("users_default", 0))
    out = []
    for user in sorted(set(current) | set(wanted)):
        have, want = current.get(user, default), wanted.get(user, 0)
        if have == want:
            continue
        more = have > want
        out.append(
            Finding(
                severity="high" if more else "medium",
                code="room.power-excess" if more else "room.power-missing",
                subject=group.name,
                setting=f"m.room.power_levels {user}",
                value=str(have),
                expected=str(want),
                room=group.slug,
                fixable=True,
            )
        )
    if default > 0:
        out.append(
            Finding(
                severity="high",
                code="room.power-default",
                subject=group.name,
                setting="m.room.power_levels users_default",
                value=str(default),
                expected="0",
                room=group.slug,
                fixable=True,
            )
        )
    invite = _int(st.power.get("invite", 0))
    if invite != INVITE_LEVEL:
        out.append(
            Finding(
                severity="medium",
                code="room.invite-level",
                subject=group.name,
                setting="m.room.power_levels invite",
                value=str(invite),
                expected=str(INVITE_LEVEL),
                room=group.slug,
                fixable=True,
            )
        )
    return out


def _members(prov: Provisioner, group: Group, st: RoomState) -> list[Finding]:
    wanted = prov.wanted_members(group) | {prov.me}
    out = []
    for user in sorted(st.present() - wanted):
        out.append(
            Finding(
                severity="high",
                code="room.unexpected-member",
                subject=group.name,
                setting=user,
                value=st.members[user],
                room=group.slug,
                fixable=True,
            )
        )
    for user in sorted(wanted - st.present() - {prov.me}):
        if st.members.get(user) == "ban":
            continue
        out.append(
            Finding(
                severity="low",
                code="room.missing-member",
                subject=group.name,
                setting=user,
                value=st.members.get(user, "none"),
                expected="invite",
                room=group.slug,
                fixable=True,
            )
        )
    return out


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return 0
