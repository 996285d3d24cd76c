"""Provides the vault benchmark: seal/open of 1 KiB payloads vs raw SecretBox, and Argon2id cost.

Run: ``python -m bench.vault_bench``. The ratio compares the vault (per-context sub-keys,
context binding) with PyNaCl's SecretBox on the same payloads in the same run.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import nacl.secret
import nacl.utils

from crypto import Vault

N = 20_000
PAYLOAD = os.urandom(1024)


def rate(fn: object, n: int = N) -> float:
    """Operations per second of ``fn()``."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    return n / (time.perf_counter() - t0)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        vault = Vault.create(Path(d) / "vault.json", "benchmark passphrase")
        derive = time.perf_counter() - t0
        t0 = time.perf_counter()
        Vault.unlock(Path(d) / "vault.json", "benchmark passphrase")
        unlock = time.perf_counter() - t0
    box = nacl.secret.SecretBox(nacl.utils.random(32))
    raw_sealed = box.encrypt(PAYLOAD)
    sealed = vault.seal(PAYLOAD, context=b"docs:bench")
    raw_seal = rate(lambda: box.encrypt(PAYLOAD))
    vault_seal = rate(lambda: vault.seal(PAYLOAD, context=b"docs:bench"))
    raw_open = rate(lambda: box.decrypt(raw_sealed))
    vault_open = rate(lambda: vault.open(sealed, context=b"docs:bench"))
    print(f"# vault, 1 KiB payloads, {N} operations each")
    print(
        f"seal: vault {vault_seal:,.0f}/s, raw SecretBox {raw_seal:,.0f}/s, "
        f"ratio {vault_seal / raw_seal:.2f}"
    )
    print(
        f"open: vault {vault_open:,.0f}/s, raw SecretBox {raw_open:,.0f}/s, "
        f"ratio {vault_open / raw_open:.2f}"
    )
    print(
        "Argon2id (opslimit MODERATE=3, memlimit MODERATE=256 MiB): "
        f"create {derive:.2f} s, unlock {unlock:.2f} s"
    )


if __name__ == "__main__":
    main()
