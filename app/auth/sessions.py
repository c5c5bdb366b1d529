"""Signed-in sessions: access tokens that name their session, and rotating refresh tokens.

A session is one device's sign-in. Its refresh tokens form a family: each refresh retires the
token presented and issues the next. A retired token presented again means two parties hold the
family (a stolen token, or a copied phone), so the whole session is revoked (RFC 9700 §4.14) —
except within `refresh_grace_seconds` of its rotation, when it answers the same new pair again
(the parallel requests of one page all refreshing with one token; app.auth.successor).
Tokens are stored as SHA-256 only; a database leak yields nothing that signs anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth import successor
from app.auth.errors import InvalidRefreshToken, SessionIdle
from app.auth.hardening import EXPIRED, password_expired, security_event
from app.auth.models import AuthSession, RefreshToken, User
from app.core.config import Settings
from app.core.policy import SecurityPolicy
from app.core.security import TokenClaims, issue_token
from app.core.time import as_utc, utcnow


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _issue(
    session: Session, user: User, auth_session: AuthSession, settings: Settings, now: datetime
) -> TokenPair:
    raw = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=_digest(raw),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_ttl_seconds),
        )
    )
    access = issue_token(
        TokenClaims(user_id=user.id, role=user.role, scope=user.scope, session_id=auth_session.id),
        settings.secret_key,
        settings.token_ttl_seconds,
        now=now,
    )
    return TokenPair(
        access_token=access,
        expires_in=settings.token_ttl_seconds,
        refresh_token=raw,
        refresh_expires_in=settings.refresh_ttl_seconds,
        session_id=auth_session.id,
    )


def open_session(
    session: Session,
    user: User,
    settings: Settings,
    *,
    method: str,
    user_agent: str = "",
    restriction: str | None = None,
) -> TokenPair:
    """A new session for `user` (signed in by `method`), with its first token pair;
    `restriction`: what it is limited to (app.auth.hardening), if anything."""
    auth_session = AuthSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        method=method,
        user_agent=user_agent[:200],
        created_at=utcnow(),
        restriction=restriction,
    )
    session.add(auth_session)
    session.flush()
    pair = _issue(session, user, auth_session, settings, auth_session.created_at)
    session.flush()
    return pair


def refresh(
    session: Session, raw: str, settings: Settings, security: SecurityPolicy | None = None
) -> TokenPair:
    """The next token pair for a refresh token, retiring it; for a token retired less than the
    grace ago, the pair it was exchanged for.

    Raises InvalidRefreshToken. When the token had been retired longer ago, the session is
    revoked first: the caller must commit before refusing, or the revocation is lost.
    """
    # Lock the token and its session before reading them: a second refresh with one token waits
    # until the first has committed its pair, then answers that pair (SQLite serialises
    # writers already; PostgreSQL needs the row lock).
    digest = _digest(raw)
    row = session.execute(
        select(RefreshToken, AuthSession)
        .join(AuthSession, AuthSession.id == RefreshToken.session_id)
        .where(RefreshToken.token_hash == digest)
        .with_for_update()
    ).first()
    if row is None:
        raise InvalidRefreshToken()
    token, auth_session = row[0], row[1]
    now = utcnow()
    if auth_session.revoked_at is not None:
        raise InvalidRefreshToken()
    if token.rotated_at is not None:
        again = _within_grace(token, raw, now, settings)
        if again is None:
            revoke_session(session, auth_session.id, "refresh_reuse")
            security_event(
                "refresh_reuse", user_id=auth_session.user_id, session_id=auth_session.id
            )
            raise InvalidRefreshToken()
        return again
    if as_utc(token.expires_at) <= now:
        raise InvalidRefreshToken()
    user = session.get(User, auth_session.user_id)
    if user is None or not user.is_active:
        raise InvalidRefreshToken()
    if security is not None:
        _idle_or_expired(session, security, user, auth_session, now)
    token.rotated_at = now
    auth_session.last_refreshed_at = now
    pair = _issue(session, user, auth_session, settings, now)
    token.successor = successor.seal(raw, digest, _sealable(pair, now))
    # Sealed pairs past their grace are of no more use: keep none but the newest.
    session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.session_id == auth_session.id,
            RefreshToken.successor.is_not(None),
            RefreshToken.rotated_at < now - timedelta(seconds=settings.refresh_grace_seconds),
        )
        .values(successor=None)
    )
    session.flush()
    return pair


def _idle_or_expired(
    session: Session,
    security: SecurityPolicy,
    user: User,
    auth_session: AuthSession,
    now: datetime,
) -> None:
    """An idle non-member session ends here too (a refresh is not activity); a password that
    expired since the sign-in limits the session from now on."""
    if security.idle_timeout_minutes and user.role != "member":
        last = as_utc(auth_session.last_seen_at or auth_session.created_at)
        if now - last > timedelta(minutes=security.idle_timeout_minutes):
            revoke_session(session, auth_session.id, "idle")
            raise SessionIdle(minutes=security.idle_timeout_minutes)
    if auth_session.restriction is None and password_expired(
        security, user.password_changed_at or user.created_at, now
    ):
        auth_session.restriction = EXPIRED


def _sealable(pair: TokenPair, now: datetime) -> successor.Successor:
    issued = int(now.timestamp())
    return successor.Successor(
        access_token=pair.access_token,
        access_expires_at=issued + pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_at=issued + pair.refresh_expires_in,
    )


def _within_grace(
    token: RefreshToken, raw: str, now: datetime, settings: Settings
) -> TokenPair | None:
    """The pair a retired token was exchanged for, if it was retired within the grace (None:
    reuse)."""
    assert token.rotated_at is not None
    if now - as_utc(token.rotated_at) > timedelta(seconds=settings.refresh_grace_seconds):
        return None
    if token.successor is None:  # rotated before sealing existed
        return None
    pair = successor.open_sealed(raw, token.token_hash, token.successor)
    if pair is None:
        return None
    moment = int(now.timestamp())
    return TokenPair(
        access_token=pair.access_token,
        expires_in=max(0, pair.access_expires_at - moment),
        refresh_token=pair.refresh_token,
        refresh_expires_in=max(0, pair.refresh_expires_at - moment),
        session_id=token.session_id,
    )


def revoke_session(session: Session, session_id: str, reason: str) -> None:
    """End one session: its refresh tokens and its access tokens stop working at once."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_user_sessions(
    session: Session, user_id: int, reason: str, *, keep: str | None = None
) -> int:
    """End every open session of a user but `keep`; how many were ended."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    result = session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
