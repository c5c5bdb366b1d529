"""Accounts, login with throttling of failures, and token checks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.auth.errors import InvalidUser, TooManyAttempts
from app.auth.models import ROLES, AuthSession, LoginFailure, User
from app.auth.principal import DIVISION_ROLES, Principal
from app.auth.roles import UNSCOPED_ROLES
from app.core.security import hash_password, verify_password
from app.core.text_fields import column_length, line_problem
from app.core.time import as_utc, utcnow

# The v1 contract: failed logins only count; per username, and per client address.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 50
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@\-\u4e00-\u9fff]{2,64}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200  # what the sign-in form accepts (app.auth.schemas)


def validate_role_scope(role: str, scope: str | None) -> str:
    """The scope to store for `role`, or InvalidUser explaining what is wrong."""
    if role not in ROLES:
        raise InvalidUser(reason=f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role in UNSCOPED_ROLES:
        return scope or ""
    if not scope:
        raise InvalidUser(reason=f"role {role} needs a scope")
    if role in DIVISION_ROLES:
        digits = DIVISION_ROLES[role]
        if not (scope.isdigit() and len(scope) == digits):
            raise InvalidUser(reason=f"a {role} scope is a {digits}-digit division code")
    elif role in ("auditor", "member") and not (scope.isdigit() and len(scope) <= 12):
        raise InvalidUser(reason=f"a {role} scope is a division code prefix")
    return scope


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    scope: str | None,
    full_name: str = "",
    member_id: int | None = None,
    separation_of_duties: bool = False,
) -> User:
    """A new account. Under separation of duties (三员分立) no account may hold `admin`."""
    if separation_of_duties and role == "admin":
        raise InvalidUser(
            reason="separation of duties is on: no account may hold admin; "
            "use sysadmin, security_admin or audit_admin"
        )
    if not USERNAME_RE.fullmatch(username):  # `$` alone lets a final "\n" through
        raise InvalidUser(reason="a username is 2–64 letters, digits or . _ - @")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(reason=f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidUser(reason=f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    name_problem = line_problem(full_name, column_length(User.full_name))
    if name_problem is not None:
        raise InvalidUser(reason=f"the full name {name_problem}")
    if role == "member" and member_id is None:
        raise InvalidUser(reason="a member account belongs to a member of the roster")
    stored_scope = validate_role_scope(role, scope)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidUser(reason=f"username {username!r} is taken")
    user = User(
        username=username,
        password_hash=hash_password(password),
        full_name=full_name,
        role=role,
        scope=stored_scope,
        member_id=member_id,
        is_active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def _retry_after(
    session: Session, column: InstrumentedAttribute[str], value: str, limit: int, now: datetime
) -> int:
    """Seconds until fewer than `limit` failures remain in the window; 0 when not throttled."""
    since = now - THROTTLE_WINDOW
    times = session.scalars(
        select(LoginFailure.at)
        .where(column == value, LoginFailure.at > since)
        .order_by(LoginFailure.at.desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    oldest_counted = min(as_utc(t) for t in times)
    return max(1, int((oldest_counted + THROTTLE_WINDOW - now).total_seconds()) + 1)


def begin_attempt(
    session: Session, username: str, address: str, *, per_username: bool = True
) -> LoginFailure:
    """Count a login attempt as a failure before its password is checked.

    Raises TooManyAttempts while throttled: even the right password is refused until the
    window passes, otherwise guessing could go on at full speed. The caller commits the
    returned attempt before checking the password (`check_password`), so that parallel
    attempts each see the others: only as many passwords are ever checked as the limits allow.
    `per_username` False: the account lockout (app.auth.hardening) replaces the per-username
    throttle; the per-address one stays.
    """
    now = utcnow()
    username, address = username[:64], address[:64]  # as stored, so that they are counted
    _serialise_attempts(session, username, address)
    wait = max(
        _retry_after(session, LoginFailure.username, username, MAX_FAILURES_PER_USERNAME, now)
        if per_username
        else 0,
        _retry_after(session, LoginFailure.address, address, MAX_FAILURES_PER_ADDRESS, now),
    )
    if wait:
        raise TooManyAttempts(retry_after=wait)
    attempt = LoginFailure(username=username, address=address, at=now)
    session.add(attempt)
    # Old failures no longer count; keep the table small.
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - 2 * THROTTLE_WINDOW))
    session.flush()
    return attempt


def check_password(
    session: Session, attempt: LoginFailure, username: str, password: str
) -> User | None:
    """The active user with these credentials (the attempt then stops counting as a failure),
    or None: the attempt stays recorded as a failure."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not verify_password(password, user.password_hash):
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.id == attempt.id))
    return user


def _serialise_attempts(session: Session, username: str, address: str) -> None:
    # Counting and recording must not interleave between parallel attempts on one username
    # or address. SQLite writers are serial already (BEGIN IMMEDIATE); on PostgreSQL,
    # transaction-scoped advisory locks, always username first so that no two wait in a cycle.
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in (f"login-username:{username}", f"login-address:{address}"):
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


def principal_for(session: Session, user_id: int, session_id: str) -> Principal | None:
    """The active user behind a token of an open session, read afresh on every request, so
    that deactivation, logout and a password change take effect at once.

    Core, not the ORM: it runs on every request, where loading a User entity through the
    identity map cost as much as the rest of a check-in's statements together.
    """
    if not session_id:
        return None
    row = session.connection().execute(PRINCIPAL_ROW, principal_params(user_id, session_id)).first()
    return principal_from_row(row, user_id, session_id)


def principal_params(user_id: int, session_id: str) -> dict[str, Any]:
    return {"id": user_id, "sid": session_id}


def principal_from_row(row: Any, user_id: int, session_id: str) -> Principal | None:
    """The principal of a `PRINCIPAL_ROW` answer (a row or a plain tuple), None unless the
    user is active and the session open."""
    if row is None:
        return None
    (
        username,
        role,
        scope,
        member_id,
        is_active,
        revoked_at,
        restriction,
        password_changed_at,
        created_at,
        last_seen_at,
        session_created_at,
    ) = row
    if not is_active or revoked_at is not None:
        return None
    return Principal(
        user_id=user_id,
        username=username,
        role=role,
        scope=scope,
        member_id=member_id,
        session_id=session_id,
        restriction=restriction,
        password_set_at=password_changed_at or created_at,
        last_active_at=last_seen_at or session_created_at,
    )


_users = User.__table__.c
_sessions = AuthSession.__table__.c
PRINCIPAL_ROW = (
    select(
        _users.username,
        _users.role,
        _users.scope,
        _users.member_id,
        _users.is_active,
        _sessions.revoked_at,
        _sessions.restriction,
        _users.password_changed_at,
        _users.created_at,
        _sessions.last_seen_at,
        _sessions.created_at,
    )
    .select_from(User.__table__.join(AuthSession.__table__, _sessions.user_id == _users.id))
    .where(_users.id == bindparam("id"), _sessions.id == bindparam("sid"))
)
