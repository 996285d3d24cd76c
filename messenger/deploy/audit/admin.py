"""Provides ``SynapseAdmin``: the few Synapse admin API reads the audit needs (users, devices).

Every answer goes through messenger's one error boundary (``raise_for_status`` and
``error_for``): a refused call is an ``AuthError`` (the account is not a server admin), a
missing user ``NotFound``, a network failure ``TransientError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp

from messenger.calls import json_body
from messenger.errors import TransientError, raise_for_status

TIMEOUT_S = 30.0
PAGE = 500


@dataclass(frozen=True)
class DeviceSeen:
    """One device as the admin API knows it (``ip`` and ``user_agent`` stay in the terminal)."""

    device_id: str
    last_seen_ts: int | None
    ip: str = ""
    user_agent: str = ""


@dataclass
class SynapseAdmin:
    """Admin API reads with one account's access token (that account must be a server admin)."""

    base_url: str
    token: str
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        url = f"{self.base_url.rstrip('/')}/_synapse/admin{path}"
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with self._http.get(url, params=params, headers=headers) as r:
                text = await r.text() if r.content_length != 0 else ""
                status = r.status
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            raise TransientError(f"GET {path} failed: {e.__class__.__name__}: {e}") from None
        data = json_body(status, text, f"GET /_synapse/admin{path}")
        if status >= 400:
            raise_for_status(status, data, f"GET /_synapse/admin{path}")
        return data

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def server_admins(self) -> list[str]:
        """Every active account with server-admin rights on this homeserver."""
        admins: list[str] = []
        start = "0"
        while True:
            params = {"from": start, "limit": str(PAGE), "guests": "false", "admins": "true"}
            data = await self._get("/v2/users", params)
            for user in data.get("users", []):
                if isinstance(user, dict) and user.get("admin") and not user.get("deactivated"):
                    admins.append(str(user.get("name", "")))
            nxt = data.get("next_token")
            if nxt is None:
                return sorted(admins)
            start = str(nxt)

    async def devices(self, user_id: str) -> list[DeviceSeen]:
        """A local user's devices with when (and from where) each was last seen."""
        data = await self._get(f"/v2/users/{quote(user_id, safe='')}/devices")
        out = []
        for d in data.get("devices", []):
            if not isinstance(d, dict) or not isinstance(d.get("device_id"), str):
                continue
            seen = d.get("last_seen_ts")
            out.append(
                DeviceSeen(
                    d["device_id"],
                    int(seen) if isinstance(seen, int) else None,
                    str(d.get("last_seen_ip") or ""),
                    str(d.get("last_seen_user_agent") or ""),
                )
            )
        return out
