"""Provides the at-rest ``Vault``: a passphrase-wrapped data key that seals and opens values.

Design
------
* A random 32-byte data-encryption key (DEK) does all the work. It is stored only sealed
  (XSalsa20-Poly1305 ``SecretBox``) under a key-encryption key (KEK) derived from the
  passphrase with Argon2id. The header file holds ``version``, ``salt``, ``opslimit``,
  ``memlimit`` and the sealed DEK — never the DEK or the KEK — and is written atomically
  (temp file, fsync, rename, fsync of the directory).
* ``seal(plaintext, context=...)`` uses a per-context subkey,
  ``BLAKE2b(key=DEK, person="samverkan.seal", data=context)``, so a value sealed for one
  table/column does not open in another. Tokens are ``0x01 || nonce(24) || box``.
* ``derive_key(purpose)`` gives independent 32-byte keys (``person="samverkan.derive"``),
  e.g. the nio store pickle key. Seal subkeys and derived keys use different
  personalisations and cannot collide.
* Passphrases are NFC-normalised, so the same passphrase typed on macOS and Linux opens
  the vault.

Argon2id cost
-------------
Default: ``OPSLIMIT_MODERATE`` (3 passes) and ``MEMLIMIT_MODERATE`` (256 MiB), libsodium's
single-lane Argon2id. Measured on the 2-core development VM: ~0.42 s per derivation
(3 × 128 MiB: 0.20 s; ``INTERACTIVE`` 2 × 64 MiB: 0.07 s; ``4 × 256 MiB``: 0.54 s).
Unlocking, creating and re-keying each derive once. Tests and demos may pass
``OPSLIMIT_MIN``/``MEMLIMIT_MIN``; the chosen cost is recorded in the header, so a vault
always opens with the cost it was created with.

All methods are synchronous and CPU- or disk-bound: async callers run ``create``,
``unlock``, ``open_or_create`` and ``rekey`` in a thread.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any, Final

import nacl.bindings
import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils

from crypto.errors import CryptoError, DecryptionError, WrongPassphrase
from crypto.keys import KEY_SIZE, b64decode_unpadded, b64encode_unpadded

FORMAT: Final = "samverkan-vault"
VERSION: Final = 1
TOKEN_VERSION: Final = 1
_VERSION_BYTE: Final = bytes([TOKEN_VERSION])
DEFAULT_OPSLIMIT: Final = argon2id.OPSLIMIT_MODERATE
DEFAULT_MEMLIMIT: Final = argon2id.MEMLIMIT_MODERATE
_SEAL_PERSON: Final = b"samverkan.seal"
_DERIVE_PERSON: Final = b"samverkan.derive"
_NONCE: Final = nacl.secret.SecretBox.NONCE_SIZE
_MIN_TOKEN: Final = 1 + _NONCE + nacl.secret.SecretBox.MACBYTES
_MAX_CACHED_CONTEXTS: Final = 1024


def _kek(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return bytes(argon2id.kdf(KEY_SIZE, secret, salt, opslimit=opslimit, memlimit=memlimit))


def _check_limits(opslimit: int, memlimit: int, where: str) -> None:
    if type(opslimit) is not int or not argon2id.OPSLIMIT_MIN <= opslimit <= argon2id.OPSLIMIT_MAX:
        raise CryptoError(f"{where}: Argon2id opslimit {opslimit!r} is out of range")
    if type(memlimit) is not int or not argon2id.MEMLIMIT_MIN <= memlimit <= argon2id.MEMLIMIT_MAX:
        raise CryptoError(f"{where}: Argon2id memlimit {memlimit!r} is out of range")


def _write_atomically(path: Path, data: bytes, *, exclusive: bool) -> None:
    """Write ``data`` to ``path`` so a crash leaves the old file or the new one, never half.

    With ``exclusive``, fail with ``FileExistsError`` if ``path`` exists (atomically, by
    hard-linking the finished temp file into place).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{nacl.utils.random(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _header(dek: bytes, passphrase: str, opslimit: int, memlimit: int) -> bytes:
    if not passphrase:
        raise CryptoError("refusing an empty passphrase for the vault")
    _check_limits(opslimit, memlimit, "vault")
    salt = nacl.utils.random(argon2id.SALTBYTES)
    sealed = nacl.secret.SecretBox(_kek(passphrase, salt, opslimit, memlimit)).encrypt(dek)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "kdf": "argon2id",
        "salt": b64encode_unpadded(salt),
        "opslimit": opslimit,
        "memlimit": memlimit,
        "sealed_dek": b64encode_unpadded(bytes(sealed)),
    }
    return (json.dumps(header, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _read_header(path: Path) -> dict[str, Any]:
    try:
        header = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        raise CryptoError(
            f"vault header {path} is not valid JSON; restore it from a backup"
        ) from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CryptoError(f"{path} is not a Samverkan vault header")
    if header.get("version") != VERSION or header.get("kdf") != "argon2id":
        raise CryptoError(
            f"vault header {path} has version {header.get('version')!r}; this Samverkan "
            f"reads version {VERSION}. Upgrade Samverkan to open it."
        )
    return header


def _unwrap(path: Path, passphrase: str) -> bytes:
    header = _read_header(path)
    try:
        salt = b64decode_unpadded(header["salt"])
        sealed = b64decode_unpadded(header["sealed_dek"])
        opslimit, memlimit = header["opslimit"], header["memlimit"]
    except (KeyError, TypeError, CryptoError) as exc:
        raise CryptoError(f"vault header {path} is damaged; restore it from a backup") from exc
    _check_limits(opslimit, memlimit, f"vault header {path}")
    if len(salt) != argon2id.SALTBYTES:
        raise CryptoError(f"vault header {path} has a damaged salt; restore it from a backup")
    try:
        dek = nacl.secret.SecretBox(_kek(passphrase, salt, opslimit, memlimit)).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise WrongPassphrase(
            f"the passphrase does not open this vault ({path}); check SAMVERKAN_PASSPHRASE or "
            "retype it (it is case-sensitive). If you are sure it is right, the header may be "
            "damaged: restore it from a backup."
        ) from None
    if len(dek) != KEY_SIZE:
        raise CryptoError(f"vault header {path} holds a key of the wrong size")
    return bytes(dek)


class Vault:
    """An unlocked vault: seals and opens values, derives purpose keys.

    The data key lives only in memory and is never shown by ``repr`` or pickled.
    """

    __slots__ = ("_dek", "_path", "_subkeys")

    def __init__(self, path: Path, dek: bytes) -> None:
        if len(dek) != KEY_SIZE:
            raise CryptoError(f"vault data key must be {KEY_SIZE} bytes")
        self._path = Path(path)
        self._dek = bytes(dek)
        self._subkeys: dict[bytes, bytes] = {}

    def __repr__(self) -> str:
        return f"<Vault {str(self._path)!r} unlocked>"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Vault cannot be pickled")

    @property
    def path(self) -> Path:
        """The header file."""
        return self._path

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: str,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
    ) -> Vault:
        """Create a new vault at ``path``; ``FileExistsError`` if one is there already."""
        path = Path(path)
        dek = nacl.utils.random(KEY_SIZE)
        header = _header(
            dek,
            passphrase,
            DEFAULT_OPSLIMIT if opslimit is None else opslimit,
            DEFAULT_MEMLIMIT if memlimit is None else memlimit,
        )
        _write_atomically(path, header, exclusive=True)
        return cls(path, dek)

    @classmethod
    def unlock(cls, path: Path, passphrase: str) -> Vault:
        """Open an existing vault; ``WrongPassphrase`` if the passphrase does not fit."""
        path = Path(path)
        return cls(path, _unwrap(path, passphrase))

    @classmethod
    def open_or_create(
        cls,
        path: Path,
        passphrase: str,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
    ) -> Vault:
        """``unlock`` if ``path`` exists, else ``create`` (the limits apply only to creation)."""
        path = Path(path)
        if path.exists():
            return cls.unlock(path, passphrase)
        try:
            return cls.create(path, passphrase, opslimit=opslimit, memlimit=memlimit)
        except FileExistsError:  # another process created it between our check and link
            return cls.unlock(path, passphrase)

    @classmethod
    def rekey(
        cls,
        path: Path,
        old_passphrase: str,
        new_passphrase: str,
        *,
        opslimit: int | None = None,
        memlimit: int | None = None,
    ) -> Vault:
        """Re-wrap the same data key under ``new_passphrase`` with a fresh salt.

        Everything sealed before still opens; the old passphrase no longer does. The limits
        default to the ones already in the header.
        """
        path = Path(path)
        dek = _unwrap(path, old_passphrase)
        old = _read_header(path)
        header = _header(
            dek,
            new_passphrase,
            old["opslimit"] if opslimit is None else opslimit,
            old["memlimit"] if memlimit is None else memlimit,
        )
        _write_atomically(path, header, exclusive=False)
        return cls(path, dek)

    def _subkey(self, context: bytes) -> bytes:
        key = self._subkeys.get(context)
        if key is None:
            if len(self._subkeys) >= _MAX_CACHED_CONTEXTS:
                self._subkeys.clear()
            key = self._subkeys[bytes(context)] = nacl.hash.blake2b(
                bytes(context),
                digest_size=KEY_SIZE,
                key=self._dek,
                person=_SEAL_PERSON,
                encoder=nacl.encoding.RawEncoder,
            )
        return key

    def seal(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Encrypt and authenticate ``plaintext`` for ``context`` (e.g. ``b"events.title"``)."""
        nonce = nacl.utils.random(_NONCE)
        ciphertext = nacl.bindings.crypto_secretbox(bytes(plaintext), nonce, self._subkey(context))
        return b"".join((_VERSION_BYTE, nonce, ciphertext))

    def open(self, token: bytes, *, context: bytes = b"") -> bytes:
        """Inverse of ``seal``; ``DecryptionError`` if tampered, truncated or wrong context."""
        if len(token) < _MIN_TOKEN:
            raise DecryptionError(f"sealed value is truncated ({len(token)} bytes)")
        if token[0] != TOKEN_VERSION:
            raise DecryptionError(f"sealed value has unknown format version {token[0]}")
        try:
            return nacl.bindings.crypto_secretbox_open(
                token[1 + _NONCE :], token[1 : 1 + _NONCE], self._subkey(context)
            )
        except nacl.exceptions.CryptoError:
            raise DecryptionError(
                f"sealed value does not open for context {context!r}: it was sealed for "
                "another context or another vault, or it was tampered with"
            ) from None

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose`` (e.g. ``"nio-pickle"``), stable for this vault."""
        if not purpose:
            raise CryptoError("derive_key needs a non-empty purpose")
        return bytes(
            nacl.hash.blake2b(
                purpose.encode("utf-8"),
                digest_size=KEY_SIZE,
                key=self._dek,
                person=_DERIVE_PERSON,
                encoder=nacl.encoding.RawEncoder,
            )
        )
