"""Provides the configuration of the scaled homeserver: Synapse's shared and per-worker files,
and nginx routing client requests to the workers by path (Synapse's docs/workers.md).

Pure functions over a ``Layout`` (which processes, on which loopback ports); ``scaled.py``
writes the files and runs the processes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from messenger.deploy.homeserver import LOG_CONFIG, synapse_config

LOOPBACK = "127.0.0.1"
MAIN = "main"

# The client-server paths a generic worker serves, by the group of workers that gets them
# (regular expressions as Synapse's docs/workers.md lists them; everything else goes to the
# main process). /sync and friends: the synchrotrons, chosen by the user of the access token
# so that one user's long-polls meet one worker's caches.
SYNC_ROUTES = (
    r"^/_matrix/client/(r0|v3)/sync$",
    r"^/_matrix/client/(api/v1|r0|v3)/events$",
    r"^/_matrix/client/(api/v1|r0|v3)/initialSync$",
    r"^/_matrix/client/(api/v1|r0|v3)/rooms/[^/]+/initialSync$",
)
# Sending events (the event persisters store them), reading rooms, and the key queries:
# the client workers. Pagination (/messages) must stay on one worker per room, so with more
# than one client worker nginx picks it by the room ID in the path.
CLIENT_ROUTES = (
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/send",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state/",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/redact",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/(join|invite|leave|ban|unban|kick)$",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/join/",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/profile/",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/createRoom$",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/joined_members$",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/members$",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/state$",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/context/.*$",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/event/",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/rooms/.*/messages$",
    r"^/_matrix/client/(v1|unstable)/rooms/.*/relations/",
    r"^/_matrix/client/(api/v1|r0|v3|unstable)/joined_rooms$",
    r"^/_matrix/client/(r0|v3|unstable)/keys/query$",
    r"^/_matrix/client/(r0|v3|unstable)/keys/changes$",
    r"^/_matrix/client/(r0|v3|unstable)/keys/claim$",
    r"^/_matrix/client/(r0|v3|unstable)/room_keys/",
    r"^/_matrix/client/(r0|v3|unstable)/account/whoami$",
    r"^/_matrix/client/versions$",
)


@dataclass
class Ports:
    """The loopback ports of every listener (chosen once, kept in the state file)."""

    nginx: int
    postgres: int
    redis: int
    main_client: int
    main_replication: int
    synchrotrons: list[int] = field(default_factory=list)
    client_workers: list[int] = field(default_factory=list)
    persisters: list[int] = field(default_factory=list)  # replication listeners


@dataclass
class Layout:
    """Which Synapse processes run, where, and the secrets they share."""

    server_name: str
    ports: Ports
    db_password: str
    redis_password: str
    replication_secret: str
    registration_secret: str

    def listeners(self) -> dict[str, tuple[int, str]]:
        """Each worker's listener as (port, resource), in start order: the persisters first
        (the others send them events), then the synchrotrons, then the client workers."""
        p = self.ports
        kinds = (
            ("persister", p.persisters, "replication"),
            ("synchrotron", p.synchrotrons, "client"),
            ("client", p.client_workers, "client"),
        )
        return {
            f"{kind}-{i + 1}": (port, resource)
            for kind, ports, resource in kinds
            for i, port in enumerate(ports)
        }

    @property
    def workers(self) -> list[str]:
        """Every worker's name, in start order."""
        return list(self.listeners())

    @property
    def persisters(self) -> list[str]:
        return [n for n in self.workers if n.startswith("persister-")]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        return cls(**{**data, "ports": Ports(**data["ports"])})


def log_config(path: Path) -> str:
    """A Synapse log config writing warnings to ``path``."""
    return LOG_CONFIG.format(path=path)


def shared_config(layout: Layout, synapse_dir: Path) -> dict[str, Any]:
    """The homeserver.yaml every process reads: PostgreSQL, Redis, the instance map, the
    event persisters as the events stream's writers. The main process listens for clients
    (behind nginx) and for replication."""
    p = layout.ports
    config = synapse_config(
        synapse_dir, layout.server_name, p.main_client, layout.registration_secret
    )
    config["listeners"] = [
        http_listener(p.main_client, "client"),
        http_listener(p.main_replication, "replication"),
    ]
    config["database"] = {
        "name": "psycopg2",
        "args": {
            "user": "synapse",
            "password": layout.db_password,
            "dbname": "synapse",
            "host": LOOPBACK,
            "port": p.postgres,
            "cp_min": 2,
            "cp_max": 10,
        },
    }
    config["log_config"] = str(synapse_dir / "log-main.config")
    config["redis"] = {
        "enabled": True,
        "host": LOOPBACK,
        "port": p.redis,
        "password": layout.redis_password,
    }
    config["worker_replication_secret"] = layout.replication_secret
    instances = {MAIN: p.main_replication}
    instances |= {n: port for n, (port, _) in layout.listeners().items() if n in layout.persisters}
    config["instance_map"] = {n: {"host": LOOPBACK, "port": port} for n, port in instances.items()}
    if layout.persisters:
        config["stream_writers"] = {"events": layout.persisters}
    return config


def http_listener(port: int, resource: str) -> dict[str, Any]:
    """A plain HTTP listener on loopback serving one resource (client or replication)."""
    return {
        "port": port,
        "bind_addresses": [LOOPBACK],
        "type": "http",
        "tls": False,
        "x_forwarded": True,  # behind nginx
        "resources": [{"names": [resource], "compress": False}],
    }


def worker_config(layout: Layout, name: str, synapse_dir: Path) -> dict[str, Any]:
    """One generic worker's own file: its name and its listener."""
    port, resource = layout.listeners()[name]
    return {
        "worker_app": "synapse.app.generic_worker",
        "worker_name": name,
        "worker_listeners": [http_listener(port, resource)],
        "worker_log_config": str(synapse_dir / f"log-{name}.config"),
    }


def nginx_config(layout: Layout, root: Path, user: str | None) -> str:
    """nginx in front of every process: /sync to the synchrotrons (by user), sending and room
    reads to the client workers (by room), the rest to the main process. ``user`` is the
    account nginx's workers run as when started by root."""
    p = layout.ports
    lines = [
        f"user {user};" if user else "",
        "worker_processes 1;",
        f"pid {root / 'nginx.pid'};",
        f"error_log {root / 'error.log'} warn;",
        "events { worker_connections 1024; }",
        "http {",
        "  access_log off;",  # request paths name rooms and people: keep them off the disk
        *(f"  {kind}_temp_path {root / 'tmp' / kind};" for kind in TEMP_KINDS),
        "  client_max_body_size 50M;",
        "  proxy_http_version 1.1;",
        '  proxy_set_header Connection "";',
        "  proxy_set_header Host $host;",
        "  proxy_set_header X-Forwarded-For $remote_addr;",
        "  proxy_set_header X-Forwarded-Proto $scheme;",
        "  proxy_read_timeout 180s;",  # long-polls of /sync take up to their timeout
        # The localpart in a Synapse access token (syt_<base64 localpart>_…) keys the hash.
        "  map $http_authorization $mxid_localpart {",
        "    default $http_authorization;",
        '    "~Bearer syt_(?<username>.*?)_.*" $username;',
        "  }",
        # The room of /rooms/<room>/… keys the client workers' hash (pagination must stay on one).
        "  map $uri $room {",
        "    default $uri;",
        '    "~^/_matrix/client/[^/]+/rooms/(?<room_id>[^/]+)/" $room_id;',
        "  }",
        upstream("synapse_main", [p.main_client]),
        upstream("synapse_sync", p.synchrotrons or [p.main_client], "$mxid_localpart"),
        upstream("synapse_client", p.client_workers or [p.main_client], "$room"),
        "  server {",
        f"    listen {LOOPBACK}:{p.nginx};",
        *(f'    location ~ "{r}" {{ proxy_pass http://synapse_sync; }}' for r in SYNC_ROUTES),
        *(f'    location ~ "{r}" {{ proxy_pass http://synapse_client; }}' for r in CLIENT_ROUTES),
        "    location / { proxy_pass http://synapse_main; }",
        "  }",
        "}",
    ]
    return "\n".join(line for line in lines if line) + "\n"


TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def upstream(name: str, ports: list[int], hash_key: str | None = None) -> str:
    """An nginx upstream over loopback ports with kept-alive connections."""
    balance = f"hash {hash_key} consistent; " if hash_key and len(ports) > 1 else ""
    servers = " ".join(f"server {LOOPBACK}:{port};" for port in ports)
    return f"  upstream {name} {{ {balance}{servers} keepalive 16; }}"
