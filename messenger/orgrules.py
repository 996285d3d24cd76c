"""Provides the organisation file's value and cross-field rules, checkable on unvalidated data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from messenger.ids import is_user_id, server_of

# A Matrix server name: a DNS name, an IPv4 address or a bracketed IPv6 address, and an
# optional port (the spec's grammar; no scheme, no path).
SERVER_NAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?|\d{1,3}(?:\.\d{1,3}){3}"
    r"|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?"
)
# A reminder offset as the events bot reads it: ``30m``, ``1h``, ``24h``, ``2d``, ``1d12h``.
_OFFSET = re.compile(r"(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m(?:in)?)?")
MAX_OFFSET_MIN = 60 * 24 * 60

# A problem: where in the file (``("partnership", 0, "members")``), what is wrong and how to
# fix it, and the offending value.
Problem = tuple[tuple[str | int, ...], str, Any]


def check_server_names(names: list[str]) -> list[str]:
    """Validate Matrix server names (``partner.example``, ``matrix.partner.example:8448``)."""
    out = [n.strip() for n in names]
    for n in out:
        if re.match(r"^[a-z]+://", n):
            bare = re.sub(r"^[a-z]+://", "", n).split("/", 1)[0]
            raise ValueError(
                f"{n!r} is a URL; write the Matrix server name only, e.g. {bare!r} "
                "(the part after ':' in the partners' user IDs)"
            )
        if n.startswith("@") or not SERVER_NAME.fullmatch(n):
            raise ValueError(
                f"{n!r} is not a Matrix server name; write e.g. 'partner.example' or "
                "'matrix.partner.example:8448' (the part after ':' in the partners' user IDs)"
            )
    return list(dict.fromkeys(out))


def check_reminders(words: list[str]) -> list[str]:
    """Validate reminder offsets (``24h``, ``1h``, ``2d``, ``30m``); raise naming the bad ones."""
    out = [w.strip().lower() for w in words]
    bad = []
    for w in out:
        m = _OFFSET.fullmatch(w)
        if not w or m is None or not any(m.groups()):
            bad.append(w)
            continue
        d, h, mi = (int(g) if g else 0 for g in m.groups())
        if not 0 < d * 1440 + h * 60 + mi <= MAX_OFFSET_MIN:
            bad.append(w)
    if bad:
        raise ValueError(
            f"{', '.join(map(repr, bad))} is not a time before the event; write each like "
            "'30m', '1h', '24h' or '2d' (at most 60d), e.g. default_reminders = ['24h', '1h']"
        )
    return list(dict.fromkeys(out))


def slugify(name: str) -> str:
    """A stable, ASCII room key for a group name (``Nordic policy`` → ``nordic-policy``)."""
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "ø": "o", "æ": "ae", "ü": "u", "é": "e"})
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower().translate(table)).strip("-")
    return slug or "group"


def remote_user_problem(user: str, kind: str, ours: str, partners: list[str]) -> str | None:
    """Why ``user`` may not be in a group of ``kind`` (None if they may)."""
    server = server_of(user)
    if server == ours:
        return None
    if kind != "partnership":
        return (
            f"{user!r} is on another server ({server!r}); people from partner homeservers "
            f"may only be in a [[partnership]]: move them there, or use an account on {ours!r}"
        )
    if server not in partners:
        listed = ", ".join(map(repr, [*partners, server]))
        return (
            f"{user!r} is on {server!r}, which is neither our server ({ours!r}) nor a "
            f"partner homeserver; if it is a partner's, add it under [homeserver]: "
            f"partners = [{listed}]"
        )
    return None


def _strings(value: Any) -> list[str]:
    """The strings of a list (anything else is a field problem reported on its own)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _tables(value: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, t) for i, t in enumerate(value) if isinstance(t, Mapping)]


def _valid_partners(homeserver: Mapping[str, Any]) -> list[str]:
    out = []
    for name in _strings(homeserver.get("partners")):
        try:
            out += check_server_names([name])
        except ValueError:
            pass  # reported by the field check
    return out


def cross_problems(data: Any) -> list[Problem]:
    """Every rule spanning several fields, checked on raw or dumped file data.

    Tolerates any shape: values of the wrong type are skipped here because the field
    checks report them, so a file's field and cross-field problems are found in one run.
    """
    if not isinstance(data, Mapping):
        return []
    homeserver = data.get("homeserver")
    homeserver = homeserver if isinstance(homeserver, Mapping) else {}
    ours = homeserver.get("server_name", "localhost")
    ours = ours.strip() if isinstance(ours, str) else "localhost"
    partners = _valid_partners(homeserver)
    problems: list[Problem] = []
    seen: dict[str, tuple[str, int, str]] = {}
    for kind in ("working_group", "partnership"):
        for i, table in _tables(data.get(kind)):
            name = table.get("name")
            if isinstance(name, str) and name.strip():
                slug = slugify(name)
                if slug in seen:
                    k, j, other = seen[slug]
                    problems.append(
                        (
                            (kind, i, "name"),
                            f"two groups named alike: {other!r} ([[{k}]] number {j + 1}) and "
                            f"{name!r} share the room key {slug!r}; rename one of them",
                            name,
                        )
                    )
                else:
                    seen[slug] = (kind, i, name)
            for key in ("coordinators", "members"):
                for user in dict.fromkeys(_strings(table.get(key))):
                    if not is_user_id(user):
                        continue  # reported by the field check
                    if (msg := remote_user_problem(user, kind, ours, partners)) is not None:
                        problems.append(((kind, i, key), msg, user))
    return problems


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes whose public holidays the ``holidays`` library knows."""
    import holidays  # ~0.2 s: only when a file lists countries

    return frozenset(c for c in holidays.list_supported_countries() if len(c) == 2)


def known_codes(out: list[str], known: frozenset[str], what: str, how: str) -> list[str]:
    """``out`` without duplicates if every code is in ``known``; else a ValueError naming the
    unknown ones (``unknown country code(s) 'QQ'; <how>``)."""
    bad = [c for c in out if c not in known]
    if bad:
        raise ValueError(f"unknown {what} code(s) {', '.join(map(repr, bad))}; {how}")
    return list(dict.fromkeys(out))


def check_countries(codes: list[str]) -> list[str]:
    """Normalise and validate country codes (``ke`` → ``KE``); raise ValueError naming the bad."""
    how = "use ISO 3166-1 alpha-2 codes whose public holidays are known, e.g. 'KE', 'SE', 'NP'"
    return known_codes([c.strip().upper() for c in codes], country_codes(), "country", how)
