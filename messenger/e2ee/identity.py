"""Provides ``Identity``, the account's cross-signing identity as a device found or made it,
and ``bootstrap_identity``, the one way the runtime and the person's client make it ready."""

from __future__ import annotations

from dataclasses import dataclass

from messenger.e2ee.trust import CrossSigning


@dataclass
class Identity:
    """The account's cross-signing identity as this device found (or made) it.

    ``state``: "created" (new keys; ``recovery_key`` is shown once), "kept" (this device had
    them), "restored" (opened from secret storage with a recovery key), "verified" (signed by
    another session of the account after emoji verification), "needs_recovery_key" (published
    elsewhere: ask for it, verify from another session or reset it; ``problem`` says what went
    wrong with the last try), "unavailable" (``problem`` says why).
    """

    state: str
    recovery_key: str | None = None
    problem: str | None = None
    master_fingerprint: str | None = None
    device_signed: bool = False
    sessions_restored: int = 0

    @property
    def ok(self) -> bool:
        """This device is cross-signed by its account."""
        return self.state in {"created", "kept", "restored", "verified"}

    @property
    def outcome(self) -> str:
        """The state, under the name the CLI and older callers use."""
        return self.state


async def bootstrap_identity(
    cs: CrossSigning,
    password: str | None,
    *,
    recovery_key: str | None = None,
    new_identity: bool = False,
) -> Identity:
    """Bootstrap (or restore, or replace) the identity; "created", "restored" or "kept".

    Raises what ``CrossSigning.bootstrap`` raises (``RecoveryKeyNeeded``, ``AuthError`` …):
    each caller says it its own way.
    """
    created = await cs.bootstrap(password, recovery_key=recovery_key, new_identity=new_identity)
    if created:
        return Identity("created", recovery_key=await cs.recovery_key())
    return Identity("restored" if cs.restored else "kept")
