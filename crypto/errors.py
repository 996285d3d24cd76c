"""Provides the exceptions of the crypto package, all rooted at ``CryptoError``.

::

    CryptoError                 anything this package refuses to do
     ├── InvalidKey             key material of the wrong size or encoding
     ├── WrongPassphrase        the passphrase does not open the vault
     ├── InvalidSignature       a signature is missing, malformed or does not verify
     ├── InvalidRecoveryKey     a recovery key is mistyped (alphabet, length, prefix, parity)
     ├── DecryptionError        ciphertext is tampered with, truncated, or for another key
     └── LedgerError            a ledger chain is broken; ``.index`` names the first bad entry

Messages say what broke and, where there is one, what to do about it. No message ever
contains key material.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Root of every error raised by ``crypto``."""


class InvalidKey(CryptoError):
    """Key material has the wrong size or cannot be decoded."""


class WrongPassphrase(CryptoError):
    """The passphrase does not open the vault."""


class InvalidSignature(CryptoError):
    """A signature is missing, malformed, or does not verify."""


class InvalidRecoveryKey(CryptoError):
    """A recovery key string cannot be decoded (bad character, length, prefix or parity)."""


class DecryptionError(CryptoError):
    """Ciphertext failed authentication or could not be decrypted."""


class LedgerError(CryptoError):
    """A ledger chain or ledger file is broken.

    ``index`` is the ledger index the first broken entry should have (its 0-based
    position in a whole chain; counted from ``first_index`` when verifying a tail).
    ``line`` is the 1-based line number when the error came from a JSON Lines file
    (then ``index == line - 1``), else ``None``.
    """

    def __init__(self, message: str, *, index: int, line: int | None = None) -> None:
        super().__init__(message)
        self.index = index
        self.line = line
