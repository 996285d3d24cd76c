"""Provides a fault-injecting reverse proxy between a client and Synapse (Complement-Crypto style).

Rules match a method and a path regex and apply to the next ``times`` requests:
``fail`` (answer an HTTP error, before or after forwarding), ``drop`` (close the connection,
before or after forwarding), ``block`` (hold requests until ``unblock``), ``defer`` (answer
``{}`` now, forward later with ``release``), ``rewrite`` (edit a JSON response), and ``hook``
(await a callback after the upstream answered, e.g. to SIGKILL a process before it sees the
response). ``hits`` counts requests per rule name.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


@dataclass
class Rule:
    """One fault: what it matches, what it does, how often."""

    name: str
    path: re.Pattern[str]
    action: str
    method: str | None = None
    times: int | None = 1  # None: until removed
    after_forward: bool = False
    status: int = 502
    html: bool = False  # ``fail`` answers with an HTML page, as nginx does for a down upstream
    rewrite: Callable[[dict[str, Any]], None] | None = None
    hook: Callable[[bytes], Awaitable[None]] | None = None
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    deferred: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.path.search(path))


class FaultProxy:
    """Loopback HTTP proxy to ``upstream``; ``url`` is what the client is pointed at."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.rules: list[Rule] = []
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> FaultProxy:
        app = web.Application(client_max_size=64 * 1024**2)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def close(self) -> None:
        for rule in self.rules:
            rule.gate.set()
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    def add(self, action: str, path: str, *, name: str | None = None, **kw: Any) -> Rule:
        """Add a rule (see the module docstring); returns it (``rule.gate.set()`` unblocks)."""
        rule = Rule(name or f"{action}:{path}", re.compile(path), action, **kw)
        self.rules.append(rule)
        return rule

    def remove(self, rule: Rule) -> None:
        rule.gate.set()
        if rule in self.rules:
            self.rules.remove(rule)

    async def release(self, rule: Rule) -> int:
        """Forward every request a ``defer`` rule held back; return how many."""
        held, rule.deferred = rule.deferred, []
        for method, path, headers, body in held:
            status, _h, _b = await self._forward(method, path, headers, body)
            assert status < 400, (status, path, _b[:200])
        return len(held)

    def _rule_for(self, method: str, path: str) -> Rule | None:
        for rule in self.rules:
            if rule.matches(method, path) and (rule.times is None or rule.times > 0):
                if rule.times is not None:
                    rule.times -= 1
                self.hits[rule.name] += 1
                return rule
        return None

    async def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._http
        async with self._http.request(
            method, self.upstream + path, headers=headers, data=body or None
        ) as r:
            data = await r.read()
            out = {k: v for k, v in r.headers.items() if k.lower() not in HOP}
            return r.status, out, data

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        self.requests.append((request.method, request.path))
        rule = self._rule_for(request.method, request.path)
        action = rule.action if rule else "pass"
        if rule and action == "block":
            await rule.gate.wait()
        if rule and action == "defer":
            rule.deferred.append((request.method, path, headers, body))
            return web.json_response({})
        if rule and not rule.after_forward and action in {"fail", "drop"}:
            return self._fault(request, rule)
        status, out, data = await self._forward(request.method, path, headers, body)
        if rule and action == "hook" and rule.hook:
            await rule.hook(body)
        if rule and rule.after_forward and action in {"fail", "drop"}:
            return self._fault(request, rule)
        if rule and action == "rewrite" and rule.rewrite and status == 200:
            doc = json.loads(data)
            rule.rewrite(doc)
            data = json.dumps(doc).encode()
        return web.Response(status=status, body=data, headers=out)

    def _fault(self, request: web.Request, rule: Rule) -> web.StreamResponse:
        if rule.action == "drop":
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("dropped by the test proxy")
        if rule.html:
            page = f"<html><body><h1>{rule.status} Bad Gateway</h1></body></html>"
            return web.Response(status=rule.status, text=page, content_type="text/html")
        return web.json_response(
            {"errcode": "M_UNKNOWN", "error": f"injected by the test proxy ({rule.name})"},
            status=rule.status,
        )
