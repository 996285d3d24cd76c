"""Provides Samverkan's cryptography: keys, canonical JSON signing, cross-signing, key backup,
secret storage, the at-rest vault and the signed ledger.

Pure functions and small classes over PyNaCl and ``cryptography``; nothing here knows
about Matrix networking, rooms or bots. Olm/Megolm stay with vodozemac (through nio).
"""

from crypto.backup import (
    BACKUP_ALGORITHM,
    BackupKey,
    encrypt_session_for_backup,
    sign_backup_auth_data,
)
from crypto.canonical import canonical_json, sign_json, verify_signed_json
from crypto.crosssigning import (
    CrossSigningKeys,
    cross_signing_public_key,
    verify_cross_signing_chain,
    verify_device_signed,
    verify_user_signed,
)
from crypto.errors import (
    CryptoError,
    DecryptionError,
    InvalidKey,
    InvalidRecoveryKey,
    InvalidSignature,
    LedgerError,
    WrongPassphrase,
)
from crypto.keys import (
    Curve25519PrivateKey,
    Curve25519PublicKey,
    Ed25519PrivateKey,
    Ed25519PublicKey,
    b64decode_unpadded,
    b64encode_unpadded,
)
from crypto.ledger import GENESIS_HASH, Ledger, LedgerEntry, dump_jsonl, load_jsonl, verify_chain
from crypto.recovery import (
    SECRET_STORAGE_ALGORITHM,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    generate_secret_storage_key,
    key_description,
    key_info_check,
    key_matches_description,
)
from crypto.vault import Vault

__all__ = [
    "BACKUP_ALGORITHM",
    "GENESIS_HASH",
    "SECRET_STORAGE_ALGORITHM",
    "BackupKey",
    "CrossSigningKeys",
    "CryptoError",
    "Curve25519PrivateKey",
    "Curve25519PublicKey",
    "DecryptionError",
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "InvalidKey",
    "InvalidRecoveryKey",
    "InvalidSignature",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "Vault",
    "WrongPassphrase",
    "b64decode_unpadded",
    "b64encode_unpadded",
    "canonical_json",
    "cross_signing_public_key",
    "decode_recovery_key",
    "decrypt_secret",
    "dump_jsonl",
    "encode_recovery_key",
    "encrypt_secret",
    "encrypt_session_for_backup",
    "generate_secret_storage_key",
    "key_description",
    "key_info_check",
    "key_matches_description",
    "load_jsonl",
    "sign_backup_auth_data",
    "sign_json",
    "verify_chain",
    "verify_cross_signing_chain",
    "verify_device_signed",
    "verify_signed_json",
    "verify_user_signed",
]
