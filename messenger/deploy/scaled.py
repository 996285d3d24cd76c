"""Provides ``ScaledSynapse``: Synapse with PostgreSQL, Redis and workers behind nginx, every
process on loopback under one data directory — the deployment an organisation moves to when
one Synapse process is the bottleneck (README, "Past one machine").

Processes: PostgreSQL (the ``synapse`` database), Redis (replication between the Synapse
processes), the main Synapse process, the event persisters (the ``events`` stream's writers),
the synchrotrons (``/sync``), the client workers (sending events, reading rooms, key queries)
and nginx routing client requests among them by path (``scaled_config``). The object offers
what tests and benchmarks use of ``EmbeddedSynapse`` (``url``, ``port``, ``shared_secret``,
``start``, ``stop``); ``stop`` stops only the Synapse processes (a homeserver restart), while
``shutdown`` stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pwd
import secrets
import sys
from pathlib import Path

import aiohttp

from messenger.deploy import scaled_config as cfg
from messenger.deploy.homeserver import free_port
from messenger.deploy.services import Daemon, Postgres, run, tail, tool
from messenger.errors import HomeserverError

log = logging.getLogger(__name__)

STATE_FILE = "scaled.json"
READY_TIMEOUT_S = 180.0  # the main process's first start creates the schema
NGINX_USER = "www-data"  # the account nginx's workers run as when root starts it


class ScaledSynapse:
    """The scaled homeserver under ``root``: state (ports, secrets) in ``scaled.json``."""

    def __init__(self, root: Path, layout: cfg.Layout) -> None:
        self.root = root
        self.layout = layout
        self.postgres = Postgres(root / "postgres", layout.ports.postgres, layout.db_password)
        self.redis = Daemon(
            "redis",
            [tool("redis-server"), str(self.redis_conf)],
            str(self.redis_conf),
            self.run_dir,
            root / "redis" / "redis.log",
        )
        self.nginx = Daemon(
            "nginx",
            [tool("nginx"), "-p", str(self.nginx_dir), "-c", str(self.nginx_conf)]
            + ["-e", str(self.nginx_dir / "error.log"), "-g", "daemon off;"],
            str(self.nginx_conf),
            self.run_dir,
            self.nginx_dir / "nginx.stderr",
        )
        self.synapses = [self._synapse(cfg.MAIN)] + [self._synapse(w) for w in layout.workers]

    # -- creation ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        root: Path,
        server_name: str = "localhost",
        *,
        synchrotrons: int = 1,
        client_workers: int = 1,
        persisters: int = 1,
    ) -> ScaledSynapse:
        """The deployment under ``root``: the existing one, or a new one (free ports, fresh
        secrets) with this many workers of each kind."""
        if (root / STATE_FILE).exists():
            return cls.attach(root)
        ports = cfg.Ports(
            nginx=free_port(),
            postgres=free_port(),
            redis=free_port(),
            main_client=free_port(),
            main_replication=free_port(),
            synchrotrons=[free_port() for _ in range(synchrotrons)],
            client_workers=[free_port() for _ in range(client_workers)],
            persisters=[free_port() for _ in range(persisters)],
        )
        layout = cfg.Layout(
            server_name=server_name,
            ports=ports,
            db_password=secrets.token_urlsafe(24),
            redis_password=secrets.token_urlsafe(24),
            replication_secret=secrets.token_urlsafe(24),
            registration_secret=secrets.token_urlsafe(32),
        )
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o711)  # the postgres account must reach its directory inside
        state = root / STATE_FILE
        state.write_text(json.dumps(layout.as_dict(), indent=2))
        os.chmod(state, 0o600)
        return cls(root, layout)

    @classmethod
    def attach(cls, root: Path) -> ScaledSynapse:
        """The deployment created under ``root`` (by ``make scale-test`` or another process)."""
        try:
            data = json.loads((root / STATE_FILE).read_text())
        except (OSError, ValueError) as e:
            raise HomeserverError(f"no scaled homeserver in {root}: {e}") from None
        return cls(root, cfg.Layout.from_dict(data))

    # -- what EmbeddedSynapse offers -----------------------------------------------------

    @property
    def url(self) -> str:
        """The client-server API as clients see it: nginx."""
        return f"http://{cfg.LOOPBACK}:{self.layout.ports.nginx}"

    @property
    def port(self) -> int:
        return self.layout.ports.nginx

    @property
    def server_name(self) -> str:
        return self.layout.server_name

    @property
    def shared_secret(self) -> str:
        """The registration shared secret (the admin API's, on the main process)."""
        return self.layout.registration_secret

    @property
    def data_dir(self) -> Path:
        return self.root

    @property
    def config_path(self) -> Path:
        """The shared homeserver.yaml."""
        return self.synapse_dir / "homeserver.yaml"

    @property
    def pid(self) -> int | None:
        """The main Synapse process's ID while it runs."""
        return self.synapses[0].running()

    def pids(self) -> dict[str, int]:
        """Every running Synapse process by name (main and workers)."""
        return {d.name: pid for d in self.synapses if (pid := d.running())}

    # -- layout on disk ------------------------------------------------------------------

    @property
    def synapse_dir(self) -> Path:
        return self.root / "synapse"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def nginx_dir(self) -> Path:
        return self.root / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_dir / "nginx.conf"

    @property
    def redis_conf(self) -> Path:
        return self.root / "redis" / "redis.conf"

    def _process_config(self, name: str) -> Path:
        return self.synapse_dir / f"{name}.yaml"

    def _synapse(self, name: str) -> Daemon:
        app = "homeserver" if name == cfg.MAIN else "generic_worker"
        own = self._process_config(name)
        argv = [sys.executable, "-m", f"synapse.app.{app}", "-c", str(self.config_path)]
        return Daemon(
            name, [*argv, "-c", str(own)], str(own), self.run_dir, self.synapse_dir / f"{name}.err"
        )

    def write_configs(self) -> None:
        """Write Synapse's, Redis's and nginx's files from the layout (secrets mode 0600)."""
        layout, sd = self.layout, self.synapse_dir
        sd.mkdir(parents=True, exist_ok=True, mode=0o700)
        private(self.config_path, json.dumps(cfg.shared_config(layout, sd), indent=2))
        main = {"log_config": str(sd / "log-main.config"), "pid_file": str(sd / "main.pid")}
        private(self._process_config(cfg.MAIN), json.dumps(main, indent=2))
        for name in [cfg.MAIN, *layout.workers]:
            (sd / f"log-{name}.config").write_text(cfg.log_config(sd / f"{name}.log"))
            if name != cfg.MAIN:
                worker = cfg.worker_config(layout, name, sd)
                private(self._process_config(name), json.dumps(worker, indent=2))
        redis_dir = self.redis_conf.parent
        redis_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        redis = [
            f"port {layout.ports.redis}",
            f"bind {cfg.LOOPBACK}",
            f"requirepass {layout.redis_password}",
            'save ""',  # replication traffic and caches only: nothing worth keeping
            "appendonly no",
            f"dir {redis_dir}",
            f"logfile {redis_dir / 'redis.log'}",
            "daemonize no",
            'proc-title-template "{title} {config-file} {listen-addr}"',  # found by its config
        ]
        private(self.redis_conf, "\n".join(redis) + "\n")
        user = NGINX_USER if os.geteuid() == 0 else None
        for kind in cfg.TEMP_KINDS:
            tmp = self.nginx_dir / "tmp" / kind
            tmp.mkdir(parents=True, exist_ok=True)
            if user:
                with contextlib.suppress(KeyError):
                    entry = pwd.getpwnam(user)
                    os.chown(tmp, entry.pw_uid, entry.pw_gid)
        self.nginx_conf.write_text(cfg.nginx_config(layout, self.nginx_dir, user))

    # -- running -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start whatever does not run yet, in dependency order, and wait until nginx routes
        /sync to a synchrotron and the rest to the main process."""
        self.write_configs()
        await self.postgres.start()
        await self.redis.start()
        await wait_port(self.layout.ports.redis, self.redis)
        await self.nginx.start()
        await wait_port(self.layout.ports.nginx, self.nginx)
        main, *workers = self.synapses
        if not main.running():
            await run(
                [*main.argv, "--generate-missing-configs"], "Synapse generating its signing key"
            )
        await main.start()
        await wait_http(f"http://{cfg.LOOPBACK}:{self.layout.ports.main_client}", main)
        for worker in workers:
            await worker.start()
        for worker in workers:
            port, resource = self.layout.listeners()[worker.name]
            if resource == "client":
                await wait_http(f"http://{cfg.LOOPBACK}:{port}", worker)
            else:
                await wait_port(port, worker)
        await self.wait_routed()
        log.info("scaled homeserver ready at %s: %s", self.url, self.pids())

    async def wait_routed(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until nginx answers /versions and a /sync without a token gets Synapse's 401 (a 502
        would mean no synchrotron behind it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                statuses = []
                for path in ("/_matrix/client/versions", "/_matrix/client/v3/sync"):
                    with contextlib.suppress(aiohttp.ClientError, OSError):
                        async with http.get(self.url + path) as r:
                            statuses.append(r.status)
                if statuses == [200, 401]:
                    return
                if loop.time() > deadline:
                    raise HomeserverError(f"nginx at {self.url} does not route: {statuses}")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        """Stop the Synapse processes (workers first); PostgreSQL, Redis and nginx stay."""
        for daemon in reversed(self.synapses):
            await daemon.stop()

    async def shutdown(self) -> None:
        """Stop every process of the deployment, whoever started it."""
        failures = []
        for stop in (self.stop, self.nginx.stop, self.redis.stop, self.postgres.stop):
            try:
                await stop()
            except HomeserverError as e:
                failures.append(str(e))
        if failures:
            raise HomeserverError("; ".join(failures))

    async def __aenter__(self) -> ScaledSynapse:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    def describe(self) -> list[tuple[str, str, str]]:
        """(process, what it does, where it listens) for every part, for people."""
        p, lb = self.layout.ports, cfg.LOOPBACK
        rows = [
            ("nginx", "routes client requests by path", f"{lb}:{p.nginx} (clients)"),
            ("postgresql", "the database of every Synapse process", f"{lb}:{p.postgres}"),
            ("redis", "replication between the Synapse processes", f"{lb}:{p.redis}"),
            ("synapse main", "everything not routed to a worker", f"{lb}:{p.main_client}"),
        ]
        roles = {
            "persister": "writes the events stream",
            "synchrotron": "/sync",
            "client": "sends events, reads rooms, key queries",
        }
        for name, (port, _) in self.layout.listeners().items():
            rows.append((f"synapse {name}", roles[name.rsplit("-", 1)[0]], f"{lb}:{port}"))
        return rows


def private(path: Path, text: str) -> None:
    """Write a file only its owner may read (it holds secrets)."""
    path.write_text(text)
    os.chmod(path, 0o600)


async def wait_port(port: int, daemon: Daemon, timeout: float = READY_TIMEOUT_S) -> None:
    """Until something accepts TCP connections on the loopback ``port``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _reader, writer = await asyncio.open_connection(cfg.LOOPBACK, port)
        except OSError:
            check_alive(daemon)
            if loop.time() > deadline:
                raise HomeserverError(f"{daemon.name} does not listen on {port}") from None
            await asyncio.sleep(0.2)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


async def wait_http(url: str, daemon: Daemon, timeout: float = READY_TIMEOUT_S) -> None:
    """Until ``url``/_matrix/client/versions answers 200."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"{url}/_matrix/client/versions") as r:
                    if r.status == 200:
                        return
            check_alive(daemon)
            if loop.time() > deadline:
                raise HomeserverError(f"{daemon.name} does not answer at {url}")
            await asyncio.sleep(0.2)


def check_alive(daemon: Daemon) -> None:
    """HomeserverError with the end of its log if the daemon we started has exited."""
    code = daemon.exited()
    if code is not None:
        raise HomeserverError(f"{daemon.name} exited with code {code}:\n{tail(daemon.log)}")
