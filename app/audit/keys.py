"""The Ed25519 signing key: made by `zhucun audit keygen`, read from `ZHUCUN_SIGNING_KEY_FILE`
by every process (so every worker and host signs with the same key), made on first use in
development. Rotation is a new key file; the old public keys stay listed."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.core.config import Settings

log = logging.getLogger("zhucun.audit")

DEVELOPMENT_KEY_FILE = "zhucun-signing-key.pem"


class SigningKeyError(RuntimeError):
    """The signing key is missing or unreadable: a deployment error, not a client's."""


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    key_id: str
    public_raw: bytes

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self.private.sign(payload)).decode()


def key_id_of(public_raw: bytes) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate_key_file(path: Path) -> SigningKey:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) to `path`; refuse to overwrite.

    Written to a temporary file and linked into place, so a process that races this one reads
    either no file or a whole key, and only one of two racing writers wins."""
    private = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".zhucun-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_pem(private))
        os.link(tmp, path)  # FileExistsError if another writer got there first
    finally:
        os.unlink(tmp)
    raw = _raw_public(private)
    return SigningKey(private, key_id_of(raw), raw)


def read_key_file(path: Path) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(f"cannot read the signing key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 private key")
    raw = _raw_public(private)
    return SigningKey(private, key_id_of(raw), raw)


def signing_key(settings: Settings) -> SigningKey:
    """The key this process signs with (read once per file version)."""
    path = settings.signing_key_file
    if path is None:
        if settings.env == "production":
            raise SigningKeyError(
                "ZHUCUN_SIGNING_KEY_FILE must name a key made by `zhucun audit keygen` "
                "when ZHUCUN_ENV=production"
            )
        path = Path.cwd() / DEVELOPMENT_KEY_FILE
    if not path.exists():
        if settings.env == "production":
            raise SigningKeyError(f"the signing key file {path} does not exist")
        try:
            generate_key_file(path)
            log.warning("made a development signing key", extra={"path": str(path)})
        except FileExistsError:
            pass
    return _cached_key(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _cached_key(path: Path, _mtime_ns: int) -> SigningKey:
    return read_key_file(path)


def public_key_from_text(text: str) -> bytes:
    """A raw 32-byte public key from base64 (as /audit/public-keys lists it) or PEM."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return raw


def verify_signature(public_raw: bytes, payload: bytes, signature_b64: str) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, payload)
    except (InvalidSignature, ValueError):
        return False
    return True
