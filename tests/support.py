"""Test helpers: a plain nio member client and an organisation environment on the test Synapse."""

from __future__ import annotations

import asyncio
import contextlib
import json
import textwrap
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, MegolmEvent

from bots.runtime import Runtime, make_runtime
from messenger.config import Settings, parse_org
from messenger.deploy.deployment import Deployment
from messenger.deploy.homeserver import EmbeddedSynapse
from messenger.deploy.provision import Provisioner

WAIT_S = 30.0


class Member:
    """A person's Matrix client: plain matrix-nio with E2EE, syncing in the background.

    It auto-joins invites, keeps every timeline event it sees (decrypted where it can), and
    trusts devices on first use so it can send encrypted messages.
    """

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.events: list[tuple[str, Any]] = []  # (room_id, nio event)
        self._ids: set[str] = set()  # event IDs in self.events
        self._seen_rooms: set[str] = set()
        self.errors: list[str] = []  # exceptions the sync loop survived

        self._task: asyncio.Task[None] | None = None
        self._new = asyncio.Event()

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @classmethod
    async def login(cls, url: str, user_id: str, password: str, store: Path) -> Member:
        await asyncio.to_thread(store.mkdir, parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
        client = AsyncClient(url, user_id, store_path=str(store), config=config)
        resp = await client.login(password, device_name="test member")
        assert getattr(resp, "access_token", None), resp
        if client.should_upload_keys:
            await client.keys_upload()
        m = cls(client)
        m._task = asyncio.create_task(m._loop())
        return m

    async def _loop(self) -> None:
        while True:
            try:
                await self._sync_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a person's client keeps going; the test can look at errors
                self.errors.append(f"{e.__class__.__name__}: {e}")
                await asyncio.sleep(0.5)

    async def _sync_once(self) -> None:
        resp = await self.client.sync(
            timeout=1000, sync_filter={"room": {"timeline": {"limit": 100}}}
        )
        if not hasattr(resp, "rooms"):
            await asyncio.sleep(0.5)
            return
        # nio has moved past this batch: keep its events before anything else can fail.
        for room_id, info in resp.rooms.join.items():
            if info.timeline.limited and room_id in self._seen_rooms:
                # More arrived than one sync carries: page back to what we have.
                self.events += await self._gap(room_id, info.timeline.prev_batch)
            self._seen_rooms.add(room_id)
            for ev in info.timeline.events:
                self._keep(room_id, ev)
        for room_id, info in resp.rooms.invite.items():
            if any(isinstance(e, InviteMemberEvent) for e in info.invite_state):
                await self.client.join(room_id)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())
        await self.client.send_to_device_messages()
        self._retry_decrypt()
        self._new.set()

    def _keep(self, room_id: str, ev: Any) -> None:
        event_id = getattr(ev, "event_id", None)
        if event_id in self._ids:
            return
        if event_id:
            self._ids.add(event_id)
        self.events.append((room_id, ev))

    async def _gap(self, room_id: str, token: str | None) -> list[tuple[str, Any]]:
        """The events of a limited sync's gap, oldest first (until one we already have)."""
        older: list[Any] = []
        tries = 0
        while token:
            try:
                resp = await self.client.room_messages(room_id, start=token, limit=100)
            except Exception as e:
                resp = e
            chunk = getattr(resp, "chunk", None)
            if chunk is None and tries < 20:  # the homeserver may be restarting
                self.errors.append(f"paging back in {room_id}: {resp}")
                tries += 1
                await asyncio.sleep(0.5)
                continue
            if not chunk:
                break

            for ev in chunk:  # newest first
                if getattr(ev, "event_id", None) in self._ids:
                    token = None
                    break
                older.append(ev)
            else:
                token = resp.end
        out = []
        for ev in reversed(older):
            if getattr(ev, "event_id", None) not in self._ids:
                self._ids.add(ev.event_id)
                out.append((room_id, ev))
        return out

    def _retry_decrypt(self) -> None:
        for i, (room_id, ev) in enumerate(self.events):
            if isinstance(ev, MegolmEvent):
                with contextlib.suppress(Exception):
                    ev.room_id = room_id
                    dec = self.client.decrypt_event(ev)
                    if not isinstance(dec, MegolmEvent):
                        self.events[i] = (room_id, dec)

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=10)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.close(), 10)

    async def wait_joined(self, room_id: str, timeout: float = WAIT_S) -> None:
        async def joined() -> bool:
            return room_id in self.client.rooms and self.user_id in self.client.rooms[room_id].users

        await self.wait_until(joined, timeout)

    async def wait_all_joined(
        self, room_ids: list[str], users: set[str], timeout: float = WAIT_S
    ) -> None:
        """Until every one of ``users`` has joined (not just been invited to) every room."""

        async def joined() -> bool:
            for room_id in room_ids:
                room = self.client.rooms.get(room_id)
                present = set(room.users) - set(room.invited_users) if room else set()
                if not users <= present:
                    return False
            return True

        await self.wait_until(joined, timeout)

    async def wait_until(
        self, pred: Callable[[], Awaitable[bool]], timeout: float = WAIT_S
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await pred():
            if loop.time() > deadline:
                raise TimeoutError("condition not met in time")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), 0.5)

    async def send(self, room_id: str, body: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": body, **extra}
        return await self.send_event(room_id, "m.room.message", content)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        resp = await self.client.room_send(
            room_id, event_type, content, ignore_unverified_devices=True, tx_id=uuid.uuid4().hex
        )
        assert hasattr(resp, "event_id"), resp
        return str(resp.event_id)

    def replies_to(self, event_id: str, sender: str | None = None) -> list[dict[str, Any]]:
        """Decrypted messages whose reply/thread points at ``event_id``, as event sources."""
        out = []
        for _room, ev in self.events:
            src = getattr(ev, "source", {})
            content = src.get("content", {})
            rel = content.get("m.relates_to", {}) if isinstance(content, dict) else {}
            reply = rel.get("m.in_reply_to", {}) if isinstance(rel, dict) else {}
            target = reply.get("event_id") if isinstance(reply, dict) else None

            if target == event_id and (sender is None or src.get("sender") == sender):
                out.append(src)
        return out

    async def wait_reply(
        self, event_id: str, sender: str | None = None, count: int = 1, timeout: float = WAIT_S
    ) -> list[dict[str, Any]]:
        async def enough() -> bool:
            return len(self.replies_to(event_id, sender)) >= count

        await self.wait_until(enough, timeout)
        return self.replies_to(event_id, sender)

    def undecryptable(self) -> list[Any]:
        return [ev for _r, ev in self.events if isinstance(ev, MegolmEvent)]


class OrgEnv:
    """An organisation file with unique accounts, a deployment on the shared Synapse, helpers."""

    def __init__(self, synapse: EmbeddedSynapse, home: Path, suffix: str, make_user: Any) -> None:
        self.synapse = synapse
        self.home = home
        self.suffix = suffix
        self.make_user = make_user
        self.deployment: Deployment | None = None
        self.runtime: Runtime | None = None
        self.org_text = ""

    def bots_table(self, enabled: list[str] | None = None) -> str:
        s = self.suffix
        names = enabled or ["events", "resources", "translate"]
        return textwrap.dedent(f"""
            [bots]
            enabled = {names!r}
            service = "svc-{s}"
            events = "events-{s}"
            resources = "resources-{s}"
            translate = "translate-{s}"
            library = "library-{s}"
            projects = "projects-{s}"
        """)

    def write_org(
        self, body: str, name: str | None = None, enabled: list[str] | None = None
    ) -> Settings:
        text = (
            textwrap.dedent(f"""
            [organisation]
            name = "{name or "Test org " + self.suffix}"
            languages = ["en", "sv"]
            [homeserver]
            server_name = "localhost"
            port = {self.synapse.port}
        """)
            + self.bots_table(enabled)
            + textwrap.dedent(body)
        )
        self.org_text = text
        return Settings(
            home=self.home, passphrase="test passphrase", org=parse_org(text), fast_kdf=True
        )  # type: ignore[arg-type]

    async def open(self, settings: Settings) -> Deployment:
        if self.deployment is None:
            self.deployment = await Deployment.open(settings, synapse=self.synapse)
        else:
            self.deployment.settings = settings
        for bot in settings.org.bot_user_ids().values():
            await self.deployment.ensure_account(bot)
        return self.deployment

    async def apply(self, settings: Settings) -> Any:
        dep = await self.open(settings)
        service = await dep.service_session()
        try:
            return await Provisioner(service, settings.org).apply()
        finally:
            await service.close()

    async def plan(self, settings: Settings) -> list[Any]:
        dep = await self.open(settings)
        service = await dep.service_session()
        try:
            return await Provisioner(service, settings.org).plan()
        finally:
            await service.close()

    async def start_bots(self, settings: Settings, names: list[str] | None = None) -> Runtime:
        """Start the bots as ``samverkan up`` does (the first at once, the others beside it);
        return once every one is made."""
        dep = await self.open(settings)
        self.runtime = await make_runtime(dep, names, early=True)
        self.runtime.start()
        await self.runtime.made.wait()
        return self.runtime

    async def stop_bots(self) -> None:
        if self.runtime:
            await self.runtime.stop()
            self.runtime = None

    async def room_with_bots(
        self,
        member_factory: Any,
        *,
        members: int = 1,
        coordinators: int = 0,
        bots: list[str] | None = None,
        group: str = "Nordic policy",
        extra: str = "",
        enabled: list[str] | None = None,
    ) -> tuple[Settings, str, list[Member], Runtime]:
        """One working group with fresh people, provisioned, joined, bots running and joined.

        Returns (settings, room ID, members — coordinators first —, runtime). ``extra`` is
        appended inside the ``[[working_group]]`` table (e.g. ``trust = "verified"``);
        ``enabled`` is the organisation's ``[bots] enabled`` (default: events, resources,
        translate).
        """
        people = [await self.make_user("coord") for _ in range(coordinators)]
        people += [await self.make_user("member") for _ in range(members)]
        coords = ", ".join(f'"{u}"' for u, _ in people[:coordinators])
        mems = ", ".join(f'"{u}"' for u, _ in people[coordinators:])
        settings = self.write_org(
            f"""
            [[working_group]]
            name = "{group}"
            coordinators = [{coords}]
            members = [{mems}]
            {extra}
            """,
            enabled=enabled,
        )
        report = await self.apply(settings)
        assert not report.failed, report.failed
        from messenger.config import slugify

        room_id = await self.room_id(slugify(group))
        clients = [await member_factory(u, pw) for u, pw in people]
        for c in clients:
            await c.wait_joined(room_id)
        runtime = await self.start_bots(settings, bots)
        await runtime.wait_synced()
        bot_ids = {b.user_id for b in runtime.bots}
        for c in clients:

            async def bots_joined(c: Member = c) -> bool:
                room = c.client.rooms.get(room_id)
                joined = set(room.users) - set(room.invited_users) if room else set()
                return bot_ids <= joined

            await c.wait_until(bots_joined)
        return settings, room_id, clients, runtime

    async def room_id(self, slug: str) -> str:
        assert self.deployment
        service = await self.deployment.service_session()
        try:
            existing = await Provisioner(service, self.deployment.settings.org).existing()
            return existing[slug].room_id
        finally:
            await service.close()

    async def close(self) -> None:
        await self.stop_bots()
        if self.deployment:
            await self.deployment.close()


CALL_TIMEOUT_S = 30.0


async def client_api(
    base_url: str, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    """One client-server call outside any Matrix client (``path`` from ``/_matrix``), bounded;
    returns (HTTP status, parsed JSON or the text)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None if body is None else json.dumps(body).encode()
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.request(method, base_url + path, data=data, headers=headers) as resp,
    ):
        text = await resp.text()
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text


async def send_in_clear(
    base_url: str, token: str, room_id: str, event_type: str, content: Any
) -> str:
    """Send an event with a raw PUT /send (nothing encrypted, as a forger would); its ID."""
    status, data = await client_api(
        base_url,
        "PUT",
        f"/_matrix/client/v3/rooms/{room_id}/send/{event_type}/{uuid.uuid4().hex}",
        token,
        content,
    )
    assert status == 200, data
    return str(data["event_id"])
