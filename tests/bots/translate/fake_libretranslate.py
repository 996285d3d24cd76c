"""A stand-in for a self-hosted LibreTranslate server, on loopback, for tests only.

It is NOT LibreTranslate: it speaks LibreTranslate's HTTP API (``GET /languages``,
``POST /translate`` with ``q``/``source``/``target``/``format`` → ``translatedText``, errors
as ``{"error": ...}`` with status 400) and "translates" word by word from a tiny phrase
book, leaving unknown words (and glossary tokens) as they are. It records every request,
so tests can prove that nothing was sent when machine translation is off.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

PHRASES = {
    ("sv", "en"): {"vill": "wants", "ha": "to have", "mer": "more", "demokrati": "democracy",
                   "lokal": "local", "och": "and", "i": "in", "kommunerna": "the municipalities"},
    ("da", "sv"): {"vil": "vill", "have": "ha", "mere": "mer", "demokrati": "demokrati"},
    ("en", "sv"): {"more": "mer", "democracy": "demokrati"},
}  # fmt: skip


class FakeLibreTranslate:
    """The stand-in server; ``url`` once started."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/languages", self.languages)
        app.router.add_post("/translate", self.translate)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def languages(self, request: web.Request) -> web.Response:
        self.requests.append(("/languages", {}))
        codes = sorted({c for pair in PHRASES for c in pair})
        return web.json_response(
            [
                {"code": c, "name": c, "targets": sorted(b for a, b in PHRASES if a == c)}
                for c in codes
            ]
        )

    async def translate(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "Invalid request: JSON expected"}, status=400)
        self.requests.append(("/translate", body))
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        if not isinstance(q, str) or not q:
            return web.json_response({"error": "Invalid request: missing q parameter"}, status=400)
        book = PHRASES.get((source, target))
        if book is None:
            return web.json_response({"error": f"{source} ({target}) is not supported"}, status=400)

        def word(m: re.Match[str]) -> str:
            w = m.group(0)
            return book.get(w.lower(), w)

        return web.json_response({"translatedText": re.sub(r"\w+", word, q)})
