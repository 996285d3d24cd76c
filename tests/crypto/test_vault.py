"""Tests for the at-rest Vault: passphrase wrapping, sealing, context binding, rekeying."""

from __future__ import annotations

import base64
import json
import pickle
import stat
from pathlib import Path

import nacl.pwhash.argon2id as argon2id
import pytest

from crypto import CryptoError, DecryptionError, Vault, WrongPassphrase
from crypto.vault import DEFAULT_MEMLIMIT, DEFAULT_OPSLIMIT

FAST = {"opslimit": argon2id.OPSLIMIT_MIN, "memlimit": argon2id.MEMLIMIT_MIN}
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "vault.json"


@pytest.fixture
def vault(path: Path) -> Vault:
    return Vault.create(path, PASSPHRASE, **FAST)


def test_seal_open_round_trip(vault: Vault, path: Path) -> None:
    token = vault.seal(b"Agenda: budget 2027", context=b"events.title")
    assert b"Agenda" not in token
    assert vault.open(token, context=b"events.title") == b"Agenda: budget 2027"
    assert vault.seal(b"x") != vault.seal(b"x")  # fresh nonce each time
    assert vault.open(vault.seal(b"")) == b""
    again = Vault.unlock(path, PASSPHRASE)
    assert again.open(token, context=b"events.title") == b"Agenda: budget 2027"


def test_context_binding(vault: Vault) -> None:
    token = vault.seal(b"secret", context=b"requests.text")
    with pytest.raises(DecryptionError, match="another context"):
        vault.open(token, context=b"events.title")
    with pytest.raises(DecryptionError):
        vault.open(token)


def test_tampering_is_detected(vault: Vault) -> None:
    token = vault.seal(b"payload", context=b"c")
    for i in range(len(token)):
        flipped = bytearray(token)
        flipped[i] ^= 0x01
        with pytest.raises(DecryptionError):
            vault.open(bytes(flipped), context=b"c")
    with pytest.raises(DecryptionError, match="truncated"):
        vault.open(token[:20], context=b"c")
    with pytest.raises(DecryptionError, match="version"):
        vault.open(b"\x02" + token[1:], context=b"c")


def test_other_vault_cannot_open(vault: Vault, tmp_path: Path) -> None:
    other = Vault.create(tmp_path / "other.json", PASSPHRASE, **FAST)
    with pytest.raises(DecryptionError):
        other.open(vault.seal(b"x"))


def test_wrong_passphrase_is_a_clear_error(vault: Vault, path: Path) -> None:
    with pytest.raises(WrongPassphrase) as info:
        Vault.unlock(path, "Correct horse battery staple")
    message = str(info.value)
    assert "passphrase does not open this vault" in message
    assert str(path) in message
    assert "SAMVERKAN_PASSPHRASE" in message


def test_create_refuses_existing_and_empty_passphrase(
    vault: Vault, path: Path, tmp_path: Path
) -> None:
    with pytest.raises(FileExistsError):
        Vault.create(path, PASSPHRASE, **FAST)
    with pytest.raises(CryptoError, match="empty passphrase"):
        Vault.create(tmp_path / "empty.json", "", **FAST)


def test_open_or_create(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    first = Vault.open_or_create(path, PASSPHRASE, **FAST)
    second = Vault.open_or_create(path, PASSPHRASE)
    assert second.open(first.seal(b"same key")) == b"same key"
    with pytest.raises(WrongPassphrase):
        Vault.open_or_create(path, "nope")


def test_rekey(vault: Vault, path: Path) -> None:
    token = vault.seal(b"kept", context=b"t")
    pickle_key = vault.derive_key("nio-pickle")
    salt_before = json.loads(path.read_text())["salt"]
    rekeyed = Vault.rekey(path, PASSPHRASE, "a new passphrase")
    assert rekeyed.open(token, context=b"t") == b"kept"
    with pytest.raises(WrongPassphrase):
        Vault.unlock(path, PASSPHRASE)
    reopened = Vault.unlock(path, "a new passphrase")
    assert reopened.open(token, context=b"t") == b"kept"
    assert reopened.derive_key("nio-pickle") == pickle_key
    header = json.loads(path.read_text())
    assert header["salt"] != salt_before
    assert (header["opslimit"], header["memlimit"]) == (FAST["opslimit"], FAST["memlimit"])
    with pytest.raises(WrongPassphrase):
        Vault.rekey(path, PASSPHRASE, "whatever")


def test_header_holds_no_key_material(vault: Vault, path: Path) -> None:
    header_text = path.read_text()
    header = json.loads(header_text)
    assert set(header) == {"format", "version", "kdf", "salt", "opslimit", "memlimit", "sealed_dek"}
    dek = vault._dek  # the test peeks; nothing else may
    derived = vault.derive_key("nio-pickle")
    raw = path.read_bytes()
    for secret in (dek, derived):
        assert secret not in raw
        assert secret.hex() not in header_text
        assert base64.b64encode(secret).decode().rstrip("=") not in header_text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_repr_and_pickle_do_not_leak(vault: Vault) -> None:
    assert vault._dek.hex() not in repr(vault)
    assert repr(vault).startswith("<Vault ")
    with pytest.raises(TypeError):
        pickle.dumps(vault)


def test_derive_key(vault: Vault) -> None:
    a, b = vault.derive_key("nio-pickle"), vault.derive_key("other")
    assert len(a) == 32
    assert a != b
    assert a == vault.derive_key("nio-pickle")
    with pytest.raises(CryptoError):
        vault.derive_key("")


def test_passphrase_is_unicode_normalised(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    Vault.create(path, "Fj\u00e4rilspartiet", **FAST)
    Vault.unlock(path, "Fja\u0308rilspartiet")


def test_damaged_headers(path: Path, tmp_path: Path) -> None:
    path.write_text("{not json")
    with pytest.raises(CryptoError, match="not valid JSON"):
        Vault.unlock(path, PASSPHRASE)
    good = tmp_path / "good.json"
    Vault.create(good, PASSPHRASE, **FAST)
    header = json.loads(good.read_text())
    path.write_text(json.dumps({**header, "memlimit": 2**62}))
    with pytest.raises(CryptoError, match="memlimit"):
        Vault.unlock(path, PASSPHRASE)
    path.write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(CryptoError, match="Upgrade"):
        Vault.unlock(path, PASSPHRASE)
    path.write_text(json.dumps({k: v for k, v in header.items() if k != "salt"}))
    with pytest.raises(CryptoError, match="damaged"):
        Vault.unlock(path, PASSPHRASE)


def test_default_cost_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    Vault.create(path, PASSPHRASE)
    header = json.loads(path.read_text())
    assert (header["opslimit"], header["memlimit"]) == (DEFAULT_OPSLIMIT, DEFAULT_MEMLIMIT)
    assert DEFAULT_MEMLIMIT == 256 * 1024 * 1024
