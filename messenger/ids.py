"""Provides helpers over Matrix identifiers (localpart, server part, shape check)."""

from __future__ import annotations


def localpart(user_id: str) -> str:
    """Return the localpart of ``@name:server``."""
    return user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id


def server_of(user_id: str) -> str:
    """Return the server part of a Matrix ID (``@a:example.org:8448`` → ``example.org:8448``)."""
    return user_id.split(":", 1)[1] if ":" in user_id else ""


def is_user_id(value: str) -> bool:
    """Whether ``value`` has the shape of a Matrix user ID."""
    if not value.startswith("@") or ":" not in value:
        return False
    name, server = value[1:].split(":", 1)
    return bool(name) and bool(server) and " " not in value
