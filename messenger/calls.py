"""Provides guarded nio calls (transport failures and error responses as typed exceptions)
and the capped, jittered backoff every retry loop uses."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable
from typing import Any

import aiohttp
from nio.exceptions import LocalProtocolError

from messenger.errors import TransientError, check

BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0


def backoff_delays(first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_CAP_S) -> Any:
    """Exponential backoff with full jitter, capped: 0.5 s, 1 s, 2 s … ≤ ``cap``."""
    attempt = 0
    while True:
        yield random.uniform(first / 2, min(cap, first * 2**attempt))
        attempt += 1


async def guarded(coro: Awaitable[Any], action: str) -> Any:
    """Await a nio call: transport failures become TransientError, error responses typed errors."""
    try:
        response = await coro
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        raise TransientError(f"{action} failed: {e.__class__.__name__}: {e}") from None
    except LocalProtocolError as e:  # nio's local state is not ready (e.g. room not synced yet)
        raise TransientError(f"{action} failed: {e}") from None
    return check(response, action)


def json_body(status: int, text: str, action: str) -> dict[str, Any]:
    """A homeserver answer's JSON object ({} for none). A success that is not JSON is a
    transient failure (a reverse proxy's error page while Synapse's workers restart); an
    error that is not JSON leaves its status to speak for it."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        if status < 400:
            raise TransientError(f"{action}: HTTP {status} without JSON") from None
        data = {}
    return data if isinstance(data, dict) else {}
