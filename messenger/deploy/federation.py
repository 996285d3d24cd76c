"""Provides loopback Synapse instances that federate with each other only (partner homeservers).

Each ``FederatedSynapse`` is named ``localhost:FPORT``: a TLS listener with a self-signed
certificate serves the federation (and key) API on ``FPORT``, a plain listener serves the
client API on a second loopback port (``.port`` / ``.url``, as for ``EmbeddedSynapse``).
Certificates are not verified and ``federation_domain_whitelist`` names only the servers of
the group, so they talk to each other and to nobody else. For development and tests only: a
real partner server has a real name, a CA-signed certificate and verifies certificates.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from messenger.config import OrgFile
from messenger.deploy.homeserver import EmbeddedSynapse, free_port
from messenger.ids import localpart, server_of

CERT_DAYS = 3650
RETRY_MIN = "1s"
RETRY_MAX = "5s"


def write_self_signed_cert(cert_path: Path, key_path: Path, host: str = "localhost") -> None:
    """Write a self-signed certificate for ``host`` and 127.0.0.1 (key file mode 0600)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_bytes)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def federation_config(
    config: dict[str, Any],
    *,
    data_dir: Path,
    federation_port: int,
    partners: Sequence[str],
) -> dict[str, Any]:
    """``config`` (from ``synapse_config``) extended with a TLS federation listener.

    ``partners`` are the server names this one may federate with (itself is added).
    """
    out = dict(config)
    out["listeners"] = [
        *config["listeners"],
        {
            "port": federation_port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": True,
            "x_forwarded": False,
            "resources": [{"names": ["federation"], "compress": False}],
        },
    ]
    out["tls_certificate_path"] = str(data_dir / "tls.crt")
    out["tls_private_key_path"] = str(data_dir / "tls.key")
    out["federation_verify_certificates"] = False
    # Synapse's default ip_range_blacklist (private, loopback, link-local …) stays in force;
    # only 127.0.0.1 is excepted, which is where the partner listens.
    out["ip_range_whitelist"] = ["127.0.0.1"]
    out["trusted_key_servers"] = []
    out["federation_domain_whitelist"] = sorted({config["server_name"], *partners})
    # Synapse backs off an unreachable server for 10 minutes at first; a partner that was
    # down for a minute should be caught up within seconds once it is back.
    out["federation"] = {
        "destination_min_retry_interval": RETRY_MIN,
        "destination_max_retry_interval": RETRY_MAX,
    }
    return out


class FederatedSynapse(EmbeddedSynapse):
    """An ``EmbeddedSynapse`` named ``localhost:FPORT`` that federates with ``partners`` only."""

    def __init__(
        self,
        data_dir: Path,
        federation_port: int,
        client_port: int,
        partners: Sequence[str] = (),
    ) -> None:
        super().__init__(data_dir, f"localhost:{federation_port}", client_port)
        self.federation_port = federation_port
        self.partners = list(partners)

    @property
    def federation_url(self) -> str:
        """Server-server API base URL (TLS, self-signed)."""
        return f"https://localhost:{self.federation_port}"

    def write_config(self) -> None:
        """The loopback config plus the TLS federation listener; a certificate if missing."""
        super().write_config()
        cert, key = self.data_dir / "tls.crt", self.data_dir / "tls.key"
        if not (cert.exists() and key.exists()):
            write_self_signed_cert(cert, key)
        config = json.loads(self.config_path.read_text())
        config = federation_config(
            config,
            data_dir=self.data_dir,
            federation_port=self.federation_port,
            partners=self.partners,
        )
        self.config_path.write_text(json.dumps(config, indent=2))
        os.chmod(self.config_path, 0o600)


class LoopbackFederation:
    """N ``FederatedSynapse`` under ``root``, each federating with the others only.

    Ports are chosen once and kept in ``root/federation.json``, so a second run over the
    same directory reuses the same server names and data.
    """

    def __init__(self, root: Path, count: int = 2) -> None:
        if count < 1:
            raise ValueError("a federation needs at least one server")
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        layout = root / "federation.json"
        ports: list[list[int]] = []
        if layout.exists():
            ports = json.loads(layout.read_text())["ports"]
        while len(ports) < count:
            ports.append([free_port(), free_port()])
        layout.write_text(json.dumps({"ports": ports}, indent=2))
        names = [f"localhost:{fed}" for fed, _client in ports[:count]]
        self.servers = [
            FederatedSynapse(root / f"hs{i}", fed, client, [n for n in names if n != names[i]])
            for i, (fed, client) in enumerate(ports[:count])
        ]

    async def start(self) -> None:
        """Start every server (concurrently); on failure stop those that started."""
        results = await asyncio.gather(*(s.start() for s in self.servers), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.stop()
            raise errors[0]

    async def stop(self) -> None:
        """Stop every server."""
        await asyncio.gather(*(s.stop() for s in self.servers))

    async def __aenter__(self) -> LoopbackFederation:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def loopback_org(org: OrgFile, home: FederatedSynapse, partner: FederatedSynapse) -> OrgFile:
    """``org`` moved onto a loopback pair: our server becomes ``home``, every partner ``partner``.

    People keep their localparts (``@wanjiru:partner.example`` → ``@wanjiru:localhost:PORT``);
    ``url`` is dropped (``home`` is embedded) and ``partners`` names ``partner`` only.
    """
    moved = {org.homeserver.server_name: home.server_name}
    moved |= {p: partner.server_name for p in org.homeserver.partners}

    def move(users: list[str]) -> list[str]:
        return [f"@{localpart(u)}:{moved.get(server_of(u), server_of(u))}" for u in users]

    data = org.model_dump()
    data["homeserver"] = {
        "server_name": home.server_name,
        "port": home.port,
        "partners": [partner.server_name],
    }
    for kind in ("working_group", "partnership"):
        for group in data[kind]:
            group["coordinators"] = move(group["coordinators"])
            group["members"] = move(group["members"])
    return OrgFile.model_validate(data)


def people_by_server(org: OrgFile) -> dict[str, list[str]]:
    """Everyone named in the file, grouped by the server of their user ID (sorted)."""
    out: dict[str, list[str]] = {}
    for user in sorted({u for g in org.groups for u in g.everyone}):
        out.setdefault(server_of(user), []).append(user)
    return out
