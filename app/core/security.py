"""Password hashing (argon2id) and signed access tokens (HS256 JWT)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.time import utcnow

_hasher = PasswordHasher()
# Verifying against this keeps unknown usernames as slow as wrong passwords.
_DUMMY_HASH = _hasher.hash("zhucun-dummy-password")
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password(length: int = 12) -> str:
    """A random password without look-alike characters, for members imported without one."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    scope: str
    session_id: str = ""  # the signed-in session (`sid`) the token belongs to
    expires_at: int = 0  # epoch seconds; set when read from a token


class InvalidToken(Exception):
    pass


def issue_token(
    claims: TokenClaims, secret: str, ttl_seconds: int, *, now: datetime | None = None
) -> str:
    now = now or utcnow()
    payload = {
        "sub": str(claims.user_id),
        "role": claims.role,
        "scope": claims.scope,
        "sid": claims.session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str) -> TokenClaims:
    """The claims of a valid, unexpired token; `InvalidToken` for anything else."""
    try:
        payload = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
        return TokenClaims(
            user_id=int(payload["sub"]),
            role=str(payload["role"]),
            scope=str(payload["scope"]),
            session_id=str(payload.get("sid", "")),
            expires_at=int(payload["exp"]),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
