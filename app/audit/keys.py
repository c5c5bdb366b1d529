"""The signing key: made by `zhucun audit keygen` (Ed25519 by default, or SM2 over SM3 with
`--algorithm sm2`, app.audit.sm2), read from `ZHUCUN_SIGNING_KEY_FILE` by every process (so
every worker and host signs with the same key), made on first use in development. Rotation is
a new key file; the old public keys stay listed, each with its algorithm."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit import sm2
from app.core.config import Settings

log = logging.getLogger("zhucun.audit")

DEVELOPMENT_KEY_FILE = "zhucun-signing-key.pem"


class SigningKeyError(RuntimeError):
    """The signing key is missing or unreadable: a deployment error, not a client's."""


ALGORITHMS = {"ed25519": "ed25519", "sm2": sm2.ALG}


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey | sm2.Sm2PrivateKey
    key_id: str
    public_raw: bytes

    @property
    def alg(self) -> str:
        """What its signatures are: `ed25519`, or `sm2-sm3`."""
        return sm2.ALG if isinstance(self.private, sm2.Sm2PrivateKey) else "ed25519"

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self.private.sign(payload)).decode()


def alg_of(public_raw: bytes) -> str:
    """The algorithm of a raw public key: 32 bytes are Ed25519, 04‖x‖y is SM2."""
    return sm2.ALG if len(public_raw) == sm2.PUBLIC_LENGTH else "ed25519"


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


def generate_key_file(path: Path, algorithm: str = "ed25519") -> SigningKey:
    """Write a new private key (PKCS#8 PEM, mode 0600) to `path`; refuse to overwrite.
    `algorithm`: ed25519, or sm2 (SM2 over SM3).

    Written to a temporary file and linked into place, so a process that races this one reads
    either no file or a whole key, and only one of two racing writers wins."""
    key: SigningKey
    if algorithm == "sm2":
        sm2_private = sm2.Sm2PrivateKey.generate()
        raw = sm2_private.public_raw
        key, pem = SigningKey(sm2_private, key_id_of(raw), raw), sm2_private.pem()
    elif algorithm == "ed25519":
        private = Ed25519PrivateKey.generate()
        raw = _raw_public(private)
        key, pem = SigningKey(private, key_id_of(raw), raw), _pem(private)
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}: ed25519 or sm2")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".zhucun-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        os.link(tmp, path)  # FileExistsError if another writer got there first
    finally:
        os.unlink(tmp)
    return key


def read_key_file(path: Path) -> SigningKey:
    try:
        data = path.read_bytes()
        sm2_private = sm2.load_pem(data)
        if sm2_private is not None:
            raw = sm2_private.public_raw
            return SigningKey(sm2_private, key_id_of(raw), raw)
        private = serialization.load_pem_private_key(data, password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"cannot read the signing key {path}: {exc}") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is neither an Ed25519 nor an SM2 private key")
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
    """A raw public key from base64 (as /audit/public-keys lists it: 32 bytes Ed25519, or the
    65 bytes 04‖x‖y of SM2) or an Ed25519 PEM."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = base64.b64decode(text, validate=True)
    if len(raw) == sm2.PUBLIC_LENGTH and raw[0] == 4:
        return raw
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes, an SM2 one 65 (04‖x‖y)")
    return raw


def verify_signature(public_raw: bytes, payload: bytes, signature_b64: str) -> bool:
    """Whether the signature holds, by the key's algorithm (Ed25519, or SM2 over SM3)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        if alg_of(public_raw) == sm2.ALG:
            return sm2.verify(public_raw, payload, signature)
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, payload)
    except (InvalidSignature, ValueError):
        return False
    return True
