"""Fuzz traffic to mix into the soak: to-device garbage, encrypted relation garbage, state."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import aiohttp

from tests.reliability.fuzzing import (
    call,
    login,
    put_state,
    send_ciphertext_only,
    send_to_device,
)
from tests.reliability.test_fuzz_room import RoomFuzzer
from tests.reliability.test_fuzz_state import member_change
from tests.reliability.test_fuzz_todevice import Target, shapes
from tests.support import Member


class FuzzMixer:
    """One fuzz case per call, rotating over the channels; its own seeded generator, so the
    traffic it mixes in does not change the soak's own sequence of commands."""

    def __init__(self, url: str, bots: list[str], seed: int = 4242) -> None:
        self.url = url
        self.bots = bots
        self.rng = random.Random(seed)
        self.token = ""
        self.targets: list[Target] = []
        self.rooms: dict[str, RoomFuzzer] = {}
        self.outcomes: Counter[tuple[str, int]] = Counter()
        self.n = 0

    async def start(self, outsider: str, password: str) -> None:
        """Log the outsider in and learn the bots' devices (and their Curve25519 keys)."""
        self.token = await login(self.url, outsider, password)
        await self.refresh_devices()

    async def refresh_devices(self) -> None:
        body: dict[str, Any] = {"device_keys": {b: [] for b in self.bots}}
        status, resp = await call(
            self.url, "POST", "/_matrix/client/v3/keys/query", self.token, body
        )
        keys = resp.get("device_keys", {}) if status == 200 and isinstance(resp, dict) else {}
        self.targets = [
            Target(user, device, info.get("keys", {}).get(f"curve25519:{device}", ""))
            for user, devices in keys.items()
            for device, info in devices.items()
        ]

    async def one(self, member: Member, room_id: str, recent: list[str]) -> None:
        """Send one fuzz case; the homeserver being away (the soak restarts it) is counted."""
        try:
            await self._one(member, room_id, recent)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            self.outcomes[(f"not sent: {e.__class__.__name__}", 0)] += 1

    async def _one(self, member: Member, room_id: str, recent: list[str]) -> None:
        """Send one fuzz case: to-device, an encrypted room message, or a state change."""
        rng, channel = self.rng, self.n % 3
        self.n += 1
        if channel == 0 and self.targets:
            t = rng.choice(self.targets)
            event_type, content = rng.choice(shapes(rng, t, room_id))()
            device: Any = rng.choice([t.device_id, "*"])
            status, _ = await send_to_device(
                self.url, self.token, event_type, {t.user_id: {device: content}}
            )
        elif channel == 1:
            fuzzer = self.rooms.setdefault(room_id, RoomFuzzer(rng, []))
            fuzzer.targets = recent[-30:]
            event_type, content = fuzzer.content()
            status, _ = await send_ciphertext_only(member, room_id, event_type, content)
        else:
            status, _ = await put_state(
                self.url,
                str(member.client.access_token),
                room_id,
                "m.room.member",
                member.user_id,
                member_change(rng, member.user_id),
            )
        self.outcomes[(("to-device", "room", "state")[channel], status)] += 1
