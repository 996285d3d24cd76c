"""Provides ``TcpFaultProxy``: a loopback TCP proxy that stalls, drops and resets connections.

It pumps bytes both ways between each accepted connection and ``upstream``; it knows nothing of
HTTP beyond noticing request lines (``PUT /…/send/… HTTP/1.1``) so that faults can be aimed and
counted per kind of request. Modes, switchable at any moment with ``set_mode``:

- ``pass``: forward everything.
- ``stall``: forward nothing in either direction; connections stay open, new ones are accepted
  (and stall too). Switching back to ``pass`` lets the held bytes through.
- ``drop``: close every live connection cleanly (FIN) now; a connection made while the mode
  lasts is closed after a random number of bytes (0…``max_cut``), i.e. mid-request or
  mid-response.
- ``reset``: the same with an abortive close (SO_LINGER 0, then abort: the peer gets RST).

``chaos_schedule(seed, seconds)`` makes a seeded, reproducible mix of modes and ``run`` plays
it. ``arm`` aims one fault at the next requests whose request line matches a pattern: after
``after`` bytes of the request (``when="request"``) or of the response (``when="response"``)
it drops or resets that connection, or holds it (``how="hold"``: nothing more passes either
way for ``seconds``, or until ``rule.release()``). ``cuts`` counts every cut by (how, kind of
request), ``holds`` every hold by kind; ``requests`` keeps every request line;
``abandoned_in_stall`` counts connections the client closed while they were stalled or held.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import re
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

MODES = ("pass", "stall", "drop", "reset")
CHUNK = 64 * 1024
REQUEST_LINE = re.compile(rb"^(GET|PUT|POST|DELETE|HEAD|OPTIONS|PATCH) (\S+) HTTP/1\.[01]\r\n")


def kind_of(request: str | None) -> str:
    """What a request line is, for counting faults: sync, send, keys, other — or idle."""
    if request is None:
        return "idle"
    path = request.split(" ", 1)[-1]
    if "/sync" in path:
        return "sync"
    if "/send/" in path:
        return "send"
    if "/keys/" in path or "/sendToDevice/" in path or "/room_keys/" in path:
        return "keys"
    return "other"


@dataclass
class Step:
    """One step of a chaos schedule: a mode held for ``seconds``."""

    mode: str
    seconds: float


def chaos_schedule(seed: int, seconds: float) -> list[Step]:
    """A reproducible mix of faults lasting about ``seconds``: every fault mode at least twice,
    ``pass`` between faults (short, so faults hit retries too), ending in ``pass``."""
    rng = random.Random(seed)
    spans = {"stall": (0.5, 3.0), "drop": (0.2, 1.5), "reset": (0.2, 1.5), "pass": (0.3, 2.0)}
    faults = ["stall", "drop", "reset"] * 2
    steps: list[Step] = []
    total = 0.0
    while total < seconds or faults:
        mode = faults.pop(rng.randrange(len(faults))) if faults else rng.choice(MODES[1:])
        for m in ("pass", mode):
            steps.append(Step(m, round(rng.uniform(*spans[m]), 2)))
            total += steps[-1].seconds
    steps.append(Step("pass", 0.0))
    return steps


@dataclass
class Rule:
    """An aimed fault: cut the next ``times`` requests matching ``pattern``."""

    pattern: re.Pattern[str]
    how: str  # "drop" | "reset" | "hold"
    when: str  # "request" | "response"
    after: int  # bytes of the request / response forwarded before the fault
    times: int
    seconds: float | None = None  # how long a hold lasts (None: until released)
    hits: int = 0
    hit_requests: list[str] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """End every hold of this rule now."""
        self.gate.set()


@dataclass(eq=False)
class Conn:
    """One proxied connection: both stream pairs and what it is carrying."""

    n: int
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    request: str | None = None
    rule: Rule | None = None
    sent: int = 0  # bytes of the current request forwarded upstream
    received: int = 0  # bytes of the current response forwarded to the client
    budget: int | None = None  # bytes left before a chaos cut (drop / reset modes)
    hold: Rule | None = None  # holding this connection until ``hold_until``
    hold_until: float = 0.0
    closed: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class TcpFaultProxy:
    """Loopback TCP proxy to ``host:port``; point a client at ``url``."""

    def __init__(self, host: str, port: int, *, seed: int = 0, max_cut: int = 3000) -> None:
        self.host = host
        self.port = port
        self.rng = random.Random(seed)
        self.max_cut = max_cut
        self.mode = "pass"
        self.url = ""
        self.listen_port = 0
        self.rules: list[Rule] = []
        self.cuts: Counter[tuple[str, str]] = Counter()
        self.holds: Counter[str] = Counter()
        self.requests: list[str] = []
        self.history: list[tuple[float, str]] = []
        self.connections = 0
        self.abandoned_in_stall = 0  # connections the client gave up on while stalled
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._live: set[Conn] = set()
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None

    @classmethod
    def to(cls, url: str, **kw: int) -> TcpFaultProxy:
        """A proxy in front of ``http://host:port``."""
        m = re.match(r"https?://([^:/]+):(\d+)", url)
        assert m, url
        return cls(m.group(1), int(m.group(2)), **kw)

    async def start(self) -> TcpFaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.listen_port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.listen_port}"
        return self

    async def close(self) -> None:
        self.set_mode("pass")
        for rule in self.rules:
            rule.release()
        if self._server is not None:
            self._server.close()
        for conn in list(self._live):
            self._cut(conn, "reset", count=False)
        tasks = [t for c in list(self._live) for t in c.tasks]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # -- controlling faults -------------------------------------------------------------

    def set_mode(self, mode: str) -> None:
        """Switch mode now (see the module docstring); drop/reset cut live connections."""
        assert mode in MODES, mode
        self.mode = mode
        self.history.append((asyncio.get_running_loop().time(), mode))
        if mode == "stall":
            self._flowing.clear()
        else:
            self._flowing.set()
        if mode in {"drop", "reset"}:
            for conn in list(self._live):
                self._cut(conn, mode)

    async def stall_for(self, seconds: float) -> None:
        """Stall every connection for ``seconds``, then pass again."""
        self.set_mode("stall")
        try:
            await asyncio.sleep(seconds)
        finally:
            self.set_mode("pass")

    async def run(self, steps: list[Step]) -> None:
        """Play a schedule (from ``chaos_schedule``); always ends in ``pass``."""
        try:
            for step in steps:
                self.set_mode(step.mode)
                await asyncio.sleep(step.seconds)
        finally:
            self.set_mode("pass")

    def arm(
        self,
        pattern: str,
        how: str,
        *,
        when: str = "response",
        after: int = 0,
        times: int = 1,
        seconds: float | None = None,
    ) -> Rule:
        """Drop, reset or hold the next ``times`` requests whose request line matches
        ``pattern`` (``METHOD /path?query``), once ``after`` bytes of the request or the
        response went through."""
        assert how in {"drop", "reset", "hold"}
        assert when in {"request", "response"}
        rule = Rule(re.compile(pattern), how, when, after, times, seconds)
        self.rules.append(rule)
        return rule

    def disarm(self, rule: Rule) -> None:
        """Forget ``rule`` and end its holds."""
        rule.release()
        if rule in self.rules:
            self.rules.remove(rule)

    def held(self) -> int:
        """How many connections are held (by a ``hold`` rule) right now."""
        return sum(conn.hold is not None for conn in self._live)

    # -- pumping ------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(next(self._ids), writer)
        self.connections += 1
        if self.mode in {"drop", "reset"}:
            conn.budget = self.rng.randint(0, self.max_cut)
        try:
            up_reader, conn.upstream = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        self._live.add(conn)
        conn.tasks = [
            asyncio.create_task(self._pump(conn, reader, conn.upstream, upward=True)),
            asyncio.create_task(self._pump(conn, up_reader, writer, upward=False)),
        ]
        try:
            await asyncio.gather(*conn.tasks, return_exceptions=True)
        finally:
            self._live.discard(conn)
            if not conn.closed:
                self._cut(conn, "drop", count=False)

    def _note_request(self, conn: Conn, data: bytes) -> None:
        m = REQUEST_LINE.match(data)
        if not m:
            return
        conn.request = f"{m.group(1).decode()} {m.group(2).decode(errors='replace')}"
        conn.sent = conn.received = 0
        conn.rule = None
        self.requests.append(conn.request)
        for rule in self.rules:
            if rule.times > 0 and rule.pattern.search(conn.request):
                rule.times -= 1
                conn.rule = rule
                break

    def _limit(self, conn: Conn, data: bytes, upward: bool) -> tuple[bytes, str | None, bytes]:
        """Split ``data`` at the next fault: (what passes first, the fault if any, the rest)."""
        allowed, how = len(data), None
        if conn.budget is not None and self.mode in {"drop", "reset"}:
            if conn.budget < allowed:
                allowed, how = conn.budget, self.mode
            conn.budget -= allowed
        rule = conn.rule
        if rule is not None and upward == (rule.when == "request"):
            room = max(0, rule.after - (conn.sent if upward else conn.received))
            if room <= allowed:
                allowed, how = room, rule.how
                rule.hits += 1
                rule.hit_requests.append(conn.request or "")
                conn.rule = None
                if how == "hold":
                    loop = asyncio.get_running_loop()
                    conn.hold = rule
                    conn.hold_until = loop.time() + (rule.seconds or float("inf"))
                    self.holds[kind_of(conn.request)] += 1
        return data[:allowed], how, data[allowed:]

    async def _wait(self, conn: Conn, *, client_gone: bool = False) -> None:
        """Wait out a global stall and this connection's hold."""
        if not self._flowing.is_set() or conn.hold is not None:
            self.abandoned_in_stall += client_gone
        await self._flowing.wait()
        rule = conn.hold
        if rule is not None:
            left = conn.hold_until - asyncio.get_running_loop().time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rule.gate.wait(), left if left < float("inf") else None)
            conn.hold = None

    async def _pump(
        self,
        conn: Conn,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        *,
        upward: bool,
    ) -> None:
        try:
            while not conn.closed:
                data = await src.read(CHUNK)
                await self._wait(conn, client_gone=upward and not data)
                if conn.closed:
                    return
                if not data:
                    if dst.can_write_eof():
                        dst.write_eof()
                    return
                if upward:
                    self._note_request(conn, data)
                head, how, tail = self._limit(conn, data, upward)
                await self._forward(conn, dst, head, upward)
                if how == "hold":
                    await self._wait(conn)
                    await self._forward(conn, dst, tail, upward)
                elif how is not None:
                    self._cut(conn, how)
                    return
        except (ConnectionError, OSError, RuntimeError):
            self._cut(conn, "drop", count=False)

    async def _forward(
        self, conn: Conn, dst: asyncio.StreamWriter, data: bytes, upward: bool
    ) -> None:
        if not data or conn.closed:
            return
        dst.write(data)
        await dst.drain()
        if upward:
            conn.sent += len(data)
        else:
            conn.received += len(data)

    def _cut(self, conn: Conn, how: str, *, count: bool = True) -> None:
        """Close both sides of ``conn``: ``drop`` with FIN, ``reset`` with RST."""
        if conn.closed:
            return
        conn.closed = True
        if count:
            self.cuts[(how, kind_of(conn.request))] += 1
        for w in (conn.client, conn.upstream):
            if w is None:
                continue
            if how == "reset":
                sock = w.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                w.transport.abort()
            else:
                w.close()
