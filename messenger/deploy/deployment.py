"""Provides ``Deployment``: the data directory, its vault, the homeserver and the accounts on it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

import nacl.pwhash

from crypto.vault import Vault
from messenger.config import Settings
from messenger.deploy.homeserver import EmbeddedSynapse, register_user, wait_ready
from messenger.errors import ConfigError, HomeserverError, TransientError
from messenger.ids import localpart
from messenger.session.core import Session
from messenger.store import StateStore

log = logging.getLogger(__name__)

RECOVERY_NS = "recovery-keys"
"""Deployment store: each bot's recovery key (sealed), kept by the runtime."""
RECOVERY_STORED_NS = "recovery-stored"
"""Deployment store: per bot, the fingerprint of the recovery key the operator confirmed as
stored offline (``samverkan audit recovery-stored``); never the key itself."""


async def unlock_vault(settings: Settings) -> Vault:
    """Open the vault under ``home`` (creating it on first use); Argon2id runs off the loop."""
    path = settings.home / "vault.json"
    settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    limits = {}
    if settings.fast_kdf:
        limits = {
            "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
            "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
        }
    passphrase = settings.passphrase.get_secret_value()
    return await asyncio.to_thread(Vault.open_or_create, path, passphrase, **limits)


class Deployment:
    """One organisation's installation: vault, homeserver (embedded or external), accounts.

    Account passwords the deployment creates (bots, the provisioning account, demo users)
    are kept sealed in ``home/deployment.db``.
    """

    def __init__(
        self,
        settings: Settings,
        vault: Vault,
        store: StateStore,
        synapse: EmbeddedSynapse | None = None,
    ) -> None:
        self.settings = settings
        self.vault = vault
        self.store = store
        hs = settings.org.homeserver
        self.owns_synapse = synapse is None
        if synapse is None and hs.embedded:
            synapse = EmbeddedSynapse(settings.home / "synapse", hs.server_name, hs.port)
        self.synapse = synapse

    @classmethod
    async def open(cls, settings: Settings, synapse: EmbeddedSynapse | None = None) -> Deployment:
        """Unlock the vault and open the deployment store.

        ``synapse`` is an already running homeserver to use (tests share one per session).
        """
        vault = await unlock_vault(settings)
        store = await StateStore.open(settings.home / "deployment.db", vault)
        return cls(settings, vault, store, synapse)

    @property
    def url(self) -> str:
        """The homeserver's client URL."""
        return self.synapse.url if self.synapse else self.settings.org.homeserver.client_url

    @property
    def server_name(self) -> str:
        """The Matrix server name."""
        return self.settings.org.homeserver.server_name

    async def start_homeserver(self) -> None:
        """Start the embedded Synapse, or check that the configured one answers."""
        if self.synapse:
            await self.synapse.start()
            return
        try:
            await wait_ready(self.url, 10)
        except HomeserverError as e:  # someone else's server: it may come back
            raise TransientError(str(e)) from None

    async def close(self) -> None:
        """Stop the embedded homeserver (if ours) and close the store."""
        if self.synapse and self.owns_synapse:
            await self.synapse.stop()
        await self.store.close()

    async def ensure_account(
        self, user: str, password: str | None = None, admin: bool = False
    ) -> tuple[str, str]:
        """Register ``user`` (localpart or ID) unless already done; return (user ID, password)."""
        name = localpart(user)
        known = await self.store.get("accounts", name)
        if known and (password is None or known["password"] == password):
            return known["user_id"], known["password"]
        if self.synapse is None:
            raise ConfigError(
                f"cannot create account {name!r}: the homeserver is external ({self.url}); "
                "register it there and store its password with `samverkan account add`"
            )
        password = password or secrets.token_urlsafe(24)
        try:
            user_id = await register_user(
                self.url,
                self.synapse.shared_secret,
                name,
                password,
                server_name=self.server_name,
                admin=admin,
            )
        except FileNotFoundError:
            raise HomeserverError(
                f"this data directory ({self.settings.home}) has never run its homeserver: "
                "start `samverkan up` here, or set SAMVERKAN_HOME to the data directory of "
                "the running one"
            ) from None
        except OSError as e:
            raise HomeserverError(f"the homeserver at {self.url} is not running: {e}") from None
        await self.store.put("accounts", name, {"user_id": user_id, "password": password})
        return user_id, password

    async def session(self, user: str, device_name: str = "Samverkan") -> Session:
        """A Session for an account this deployment manages (registering it if needed)."""
        user_id, password = await self.ensure_account(user)
        return await Session.open(
            self.url,
            user_id,
            self.account_dir(user_id),
            self.vault,
            password=password,
            device_name=device_name,
        )

    def account_dir(self, user_id: str) -> Path:
        """Where one account's encrypted stores live."""
        return self.settings.home / "accounts" / localpart(user_id)

    async def service_session(self) -> Session:
        """The provisioning account that owns the space and rooms."""
        await self.ensure_account(self.settings.org.service_user_id(), admin=True)
        return await self.session(self.settings.org.service_user_id(), "Samverkan provisioner")
