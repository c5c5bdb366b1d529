"""The pair that replaced a refresh token, kept sealed so that the same token presented again
within the grace (`ZHUCUN_REFRESH_GRACE`) answers exactly that pair again.

A page of a mini-program fires several requests at once; when the access token has expired,
each refreshes with the same refresh token. The first rotates it; the others must get the very
same access and refresh token (one consistent session on the phone), so the service has to be
able to answer that pair again, yet never keep a refresh token in clear.

Sealed, not derived: the pair is encrypted (AES-256-GCM) under a key derived (HKDF-SHA256, its
own label) from the old raw refresh token, which the database never holds: it keeps SHA-256 of
that token only, from which the key cannot be computed. A database leak opens no pair; only
whoever presents the old token can. Deriving the next tokens from the old one instead (an HMAC
with the server secret) would store nothing, but the access token would be signed again from
the user's role and scope and the secret as they are at the second request: a change in
between would answer a different pair. Sealing answers the bytes the first request got.

Sealed pairs older than the grace are wiped at the session's next rotation
(`app.auth.sessions`), so at most the newest one of a session is kept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_LABEL = b"zhucun refresh successor v1"
_NONCE_BYTES = 12


@dataclass(frozen=True)
class Successor:
    """The pair a rotation answered, with when each token expires (epoch seconds)."""

    access_token: str
    access_expires_at: int
    refresh_token: str
    refresh_expires_at: int


def _key(old_raw: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
        old_raw.encode()
    )
    return AESGCM(derived)


def seal(old_raw: str, old_hash: str, pair: Successor) -> bytes:
    """`pair` encrypted for whoever holds `old_raw`; bound to the old token's row by its hash."""
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(
        {
            "a": pair.access_token,
            "ae": pair.access_expires_at,
            "r": pair.refresh_token,
            "re": pair.refresh_expires_at,
        }
    ).encode()
    return nonce + _key(old_raw).encrypt(nonce, plain, old_hash.encode())


def open_sealed(old_raw: str, old_hash: str, sealed: bytes) -> Successor | None:
    """The pair sealed by `seal` for this token, or None when it does not open (altered)."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        plain = _key(old_raw).decrypt(nonce, body, old_hash.encode())
    except InvalidTag:
        return None
    data = json.loads(plain)
    return Successor(
        access_token=data["a"],
        access_expires_at=int(data["ae"]),
        refresh_token=data["r"],
        refresh_expires_at=int(data["re"]),
    )
