"""Provides the embedded Synapse homeserver and shared-secret account registration."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

from messenger.deploy import leftovers
from messenger.errors import HomeserverError, MatrixError

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 60.0
PID_FILE = "samverkan-synapse.pid"
OWNER_FILE = "samverkan-synapse.owner"  # the process ID of the process that started it

# Run as ``python -c PDEATHSIG OWNER_PID -m synapse.app.homeserver …`` on Linux: the kernel
# sends Synapse SIGTERM when the process that started it dies, even by SIGKILL; then exec.
PDEATHSIG = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, int(signal.SIGTERM), 0, 0, 0)\n"  # PR_SET_PDEATHSIG
    "if os.getppid() != int(sys.argv[1]): sys.exit(0)\n"  # the owner died before prctl
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synapse_config(data_dir: Path, server_name: str, port: int, secret: str) -> dict[str, Any]:
    """A loopback-only Synapse config: SQLite, closed registration, generous rate limits."""
    unlimited = {"per_second": 10000, "burst_count": 100000}
    return {
        "server_name": server_name,
        "pid_file": str(data_dir / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(data_dir / "homeserver.db")}},
        "log_config": str(data_dir / "log.config"),
        "media_store_path": str(data_dir / "media_store"),
        "signing_key_path": str(data_dir / "signing.key"),
        "registration_shared_secret": secret,
        "enable_registration": False,
        "report_stats": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_metrics": False,
        "allow_guest_access": False,
        "encryption_enabled_by_default_for_room_type": "all",
        "rc_message": unlimited,
        "rc_login": {"address": unlimited, "account": unlimited, "failed_attempts": unlimited},
        "rc_registration": unlimited,
        "rc_joins": {"local": unlimited, "remote": unlimited},
        "rc_joins_per_room": unlimited,
        "rc_invites": {"per_room": unlimited, "per_user": unlimited, "per_issuer": unlimited},
        "rc_3pid_validation": unlimited,
        "rc_admin_redaction": unlimited,
        "rc_key_requests": unlimited,
        "rc_room_creation": unlimited,
        "rc_presence": {"per_user": unlimited},
        "rc_delayed_event_mgmt": unlimited,
        "rc_reports": unlimited,
        "federation_rc": {"window_size": 1000, "sleep_limit": 10000, "reject_limit": 100000},
        "max_upload_size": "50M",
        "user_directory": {"enabled": True, "search_all_users": False},
        "federation_domain_whitelist": [],
        "macaroon_secret_key": secret + "-macaroon",
        "form_secret": secret + "-form",
    }


LOG_CONFIG = """version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.handlers.RotatingFileHandler
    formatter: precise
    filename: {path}
    maxBytes: 10485760
    backupCount: 2
    encoding: utf8
loggers:
  synapse.storage.SQL:
    level: WARNING
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


class EmbeddedSynapse:
    """A Synapse child process bound to loopback, with its config and data under ``data_dir``.

    A second start reuses the same data. ``stop`` terminates the whole process group. A
    Synapse left running on this data by a killed owner is stopped before a new one starts;
    on Linux the child also gets SIGTERM from the kernel when its owner dies.
    """

    def __init__(
        self,
        data_dir: Path,
        server_name: str = "localhost",
        port: int = 8008,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """``extra``: config keys set over ``synapse_config``'s (the test suite's)."""
        self.data_dir = data_dir
        self.server_name = server_name
        self.port = port
        self.extra = dict(extra or {})
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """Client-server API base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        """The generated homeserver.yaml."""
        return self.data_dir / "homeserver.yaml"

    @property
    def shared_secret(self) -> str:
        """The registration shared secret (kept in the data dir, mode 0600)."""
        return json.loads(self.config_path.read_text())["registration_shared_secret"]  # type: ignore[no-any-return]

    def write_config(self) -> None:
        """Write (or rewrite, keeping the secret) the config for the current port."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = secrets.token_urlsafe(32)
        if self.config_path.exists():
            with contextlib.suppress(ValueError, KeyError):
                secret = self.shared_secret
        config = {
            **synapse_config(self.data_dir, self.server_name, self.port, secret),
            **self.extra,
        }
        # JSON is YAML: no YAML dependency needed to write it.
        self.config_path.write_text(json.dumps(config, indent=2))
        os.chmod(self.config_path, 0o600)
        log_path = self.data_dir / "homeserver.log"
        (self.data_dir / "log.config").write_text(LOG_CONFIG.format(path=log_path))

    @property
    def pid_path(self) -> Path:
        """The running child's process ID, written as soon as it is spawned."""
        return self.data_dir / PID_FILE

    def recorded(self) -> tuple[int, int | None] | None:
        """(process ID, owner's process ID if known) from the pid and owner files."""
        pid = leftovers.read_pid_file(self.pid_path)
        owner = leftovers.read_pid_file(self.data_dir / OWNER_FILE)
        return (pid[0], owner[0] if owner else None) if pid else None

    def leftovers(self) -> list[int]:
        """Synapse processes on this data directory whose owner is gone (a killed run).

        Raises HomeserverError if a live process of another owner runs it."""
        config = str(self.config_path)
        pids = set(leftovers.processes_with_arg(config))
        recorded = self.recorded()
        if recorded and leftovers.alive(recorded[0]) and config in leftovers.cmdline(recorded[0]):
            pids.add(recorded[0])
        ours = self._proc.pid if self._proc and self._proc.returncode is None else None
        found = []
        for pid in sorted(pids - {ours}):
            owner = recorded[1] if recorded and recorded[0] == pid else None
            parent = leftovers.parent_of(pid)
            if owner is not None and owner != os.getpid() and parent == owner:
                raise HomeserverError(
                    f"the homeserver of {self.data_dir} already runs as pid {pid}, started by "
                    f"{leftovers.describe(owner)}; stop that first (or use it: it answers at "
                    f"{self.url} once ready)"
                )
            found.append(pid)
        return found

    async def stop_leftovers(self) -> list[int]:
        """Stop every Synapse left over on this data directory; return their process IDs."""
        found = self.leftovers()
        if not found:
            return []
        for pid in found:
            log.warning(
                "stopping a homeserver left over from an earlier run on %s: %s",
                self.data_dir,
                leftovers.describe(pid),
            )
        remaining = await leftovers.terminate(found)
        if remaining:
            raise HomeserverError(
                f"a homeserver left over on {self.data_dir} does not stop: "
                + ", ".join(leftovers.describe(p) for p in remaining)
            )
        self.pid_path.unlink(missing_ok=True)
        (self.data_dir / OWNER_FILE).unlink(missing_ok=True)
        return found

    def check_port(self) -> None:
        """A clear error if another program holds our port (Synapse would die on it)."""
        if not leftovers.port_in_use(self.port):
            return
        holders = leftovers.listeners(self.port)
        who = ", ".join(leftovers.describe(p) for p in holders) or "another program"
        raise HomeserverError(
            f"port {self.port} on 127.0.0.1 is in use by {who}, so the homeserver of "
            f"{self.data_dir} cannot start; stop that program or set another [homeserver] port"
        )

    async def start(self) -> None:
        """Stop leftovers, generate missing keys, start Synapse and wait until it answers."""
        if self._proc is not None and self._proc.returncode is None:
            return
        self.write_config()
        await self.stop_leftovers()
        self.check_port()
        py = sys.executable
        base = [py, "-m", "synapse.app.homeserver", "-c", str(self.config_path)]
        gen = await asyncio.create_subprocess_exec(
            *base,
            "--generate-missing-configs",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await gen.communicate()
        if gen.returncode != 0:
            raise HomeserverError(f"Synapse could not generate its keys:\n{out.decode()[-2000:]}")
        if sys.platform == "linux":
            base = [py, "-c", PDEATHSIG, str(os.getpid()), *base[1:]]
        self._proc = await asyncio.create_subprocess_exec(
            *base,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=open(self.data_dir / "homeserver.stderr", "ab"),  # noqa: ASYNC230, SIM115
            start_new_session=True,
        )
        (self.data_dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
        self.pid_path.write_text(f"{self._proc.pid}\n")
        try:
            await wait_ready(self.url, READY_TIMEOUT_S, self._proc)
        except BaseException:
            await self.stop()
            raise
        log.info("Synapse ready at %s (pid %s)", self.url, self._proc.pid)

    @property
    def pid(self) -> int | None:
        """The child's process ID while it runs."""
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    @property
    def exit_code(self) -> int | None:
        """The exit code if the child this object started has exited (not by ``stop``)."""
        return self._proc.returncode if self._proc else None

    async def stop(self, timeout: float = 15.0) -> None:
        """Terminate Synapse (SIGTERM, then SIGKILL after ``timeout``) and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        recorded = leftovers.read_pid_file(self.pid_path)
        if proc is not None and recorded and recorded[0] == proc.pid:
            self.pid_path.unlink(missing_ok=True)
            (self.data_dir / OWNER_FILE).unlink(missing_ok=True)

    async def __aenter__(self) -> EmbeddedSynapse:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def wait_ready(
    url: str,
    timeout: float,
    proc: asyncio.subprocess.Process | None = None,
) -> None:
    """Poll ``/_matrix/client/versions`` until it answers or ``timeout`` passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            if proc is not None and proc.returncode is not None:
                raise HomeserverError(
                    f"Synapse exited with code {proc.returncode} while starting; "
                    "see homeserver.log and homeserver.stderr in the data directory"
                )
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(f"{url}/_matrix/client/versions") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise HomeserverError(f"the homeserver at {url} did not answer within {timeout:.0f} s")


async def register_user(
    url: str,
    shared_secret: str,
    localpart: str,
    password: str,
    *,
    server_name: str,
    admin: bool = False,
) -> str:
    """Register an account through Synapse's shared-secret admin API; return its user ID.

    An existing account is not an error: its user ID is returned (the password is unchanged).
    """
    endpoint = f"{url}/_synapse/admin/v1/register"
    async with aiohttp.ClientSession() as http:
        async with http.get(endpoint) as r:
            if r.status != 200:
                raise HomeserverError(
                    f"{url} offers no shared-secret registration (HTTP {r.status})"
                )
            nonce = (await r.json())["nonce"]
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": hmac_hex(shared_secret, nonce, localpart, password, admin),
        }
        async with http.post(endpoint, json=body) as r:
            data = await r.json()
            if r.status == 200:
                return str(data["user_id"])
            if data.get("errcode") == "M_USER_IN_USE":
                return f"@{localpart}:{server_name}"
            raise MatrixError(
                f"registering {localpart!r} failed: {data.get('error')}",
                data.get("errcode"),
                r.status,
            )


def hmac_hex(secret: str, nonce: str, user: str, password: str, admin: bool) -> str:
    """The HMAC-SHA1 over nonce, user, password and admin flag, NUL-separated."""
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(nonce.encode() + b"\x00" + user.encode() + b"\x00" + password.encode())
    mac.update(b"\x00" + (b"admin" if admin else b"notadmin"))
    return mac.hexdigest()


async def override_ratelimit(url: str, admin_token: str, user_id: str) -> None:
    """Exempt ``user_id`` from rate limits (Synapse admin API)."""
    endpoint = f"{url}/_synapse/admin/v1/users/{user_id}/override_ratelimit"
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            endpoint, json={"messages_per_second": 0, "burst_count": 0}, headers=headers
        ) as r:
            if r.status != 200:
                raise MatrixError(f"rate-limit override for {user_id} failed", None, r.status)
