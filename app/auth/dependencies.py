"""Authentication and role checks as FastAPI dependencies."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth import hardening
from app.auth.errors import InvalidTokenError, RoleRequired, SessionIdle
from app.auth.models import AuthSession
from app.auth.principal import SUPERVISOR_ROLES, Principal
from app.auth.roles import Role
from app.auth.service import principal_for, principal_from_row
from app.auth.sessions import revoke_session
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotAuthenticated
from app.core.security import InvalidToken, TokenClaims, read_token
from app.core.time import utcnow

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    if not token:
        raise NotAuthenticated()
    claims = _verified_claims(token, settings.secret_key)
    principal = principal_for(session, claims.user_id, claims.session_id)
    if principal is None:
        raise InvalidTokenError()
    request.state.user_id = principal.user_id
    _security_gate(request, session, principal)
    return principal


def _security_gate(request: Request, session: Session, principal: Principal) -> None:
    """policy.security on every request: an idle non-member session ends (401
    `session_idle`); a session limited to enrolling a second factor, or whose password has
    expired, reaches only `/me`, `/me/password`, `/me/totp…` and `/auth/*` (403). Under the
    `basic` profile nothing here reads or writes anything."""
    security = request.app.state.policy.security
    now = utcnow()
    idle = hardening.idle_for(security, principal, now)
    if idle is not None:
        timeout = timedelta(minutes=security.idle_timeout_minutes)
        if idle > timeout:
            revoke_session(session, principal.session_id, "idle")
            session.commit()  # the refusal rolls back; the session must stay ended
            hardening.security_event(
                "session_idle", user_id=principal.user_id, session_id=principal.session_id
            )
            raise SessionIdle(minutes=security.idle_timeout_minutes)
        if idle > hardening.SEEN_GRANULARITY:
            session.execute(
                update(AuthSession)
                .where(AuthSession.id == principal.session_id)
                .values(last_seen_at=now)
            )
    restriction = hardening.effective_restriction(security, principal, now)
    if restriction is not None:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        path = path.removeprefix("/api/v1")
        if not hardening.restricted_path_open(path):
            hardening.refuse_restricted(restriction)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

# Tokens whose signature was verified, with their expiry: checking an HS256 signature cost
# more than the database lookup of the user. Only the token's own content is cached; whether
# the user may still act, and whether the token's session is still open, is read from the
# database on every request.
_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], TokenClaims] = {}


def verified_claims(token: str | None, secret: str) -> TokenClaims:
    """The claims of a bearer token whose signature holds (401 otherwise). Whether its user
    may still act is for the caller to read (`principal_for`, or the check-in's round trip)."""
    if not token:
        raise NotAuthenticated()
    return _verified_claims(token, secret)


# The member behind a member's user, for the upload routes, which check the rest of the
# principal in their own first round trip (`check_uploader`). A user's member never changes;
# should it, that check sees the mismatch and refuses the token.
_MEMBERS_MAX = 100_000
_members: dict[int, int] = {}


def known_member(claims: TokenClaims) -> int | None:
    """The member of the token's user if an upload has read it in this process (no query)."""
    return _members.get(claims.user_id)


def uploading_member(session: Session, claims: TokenClaims) -> int:
    """The member id of the token's user; read (and checked whole) on the first upload only."""
    member_id = _members.get(claims.user_id)
    if member_id is not None:
        return member_id
    principal = principal_for(session, claims.user_id, claims.session_id)
    member_id = _member_of(principal)
    if len(_members) >= _MEMBERS_MAX:
        _members.clear()
    _members[claims.user_id] = member_id
    return member_id


def check_uploader(row: Any, claims: TokenClaims, member_id: int) -> None:
    """Refuse the upload unless `row` (a `PRINCIPAL_ROW` answer read in the upload's own
    transaction) shows an active member `member_id` signed in to an open session, not
    limited to changing an expired password (policy.security: decided at sign-in and
    refresh)."""
    principal = principal_from_row(row, claims.user_id, claims.session_id)
    if _member_of(principal) != member_id:
        _members.pop(claims.user_id, None)
        raise InvalidTokenError()
    assert principal is not None
    hardening.refuse_restricted(principal.restriction)


def _member_of(principal: Principal | None) -> int:
    if principal is None:
        raise InvalidTokenError()
    if principal.role != "member" or principal.member_id is None:
        raise RoleRequired(roles="member")
    return principal.member_id


def _verified_claims(token: str, secret: str) -> TokenClaims:
    key = (secret, token)
    hit = _verified.get(key)
    if hit is not None and time.time() < hit.expires_at:
        return hit
    try:
        claims = read_token(token, secret)
    except InvalidToken:
        raise InvalidTokenError() from None
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = claims
    return claims


class RoleCheck:
    """A dependency that lets only `roles` through (403 `role_required` otherwise). A class,
    so that the OpenAPI document can see which operations answer `role_required`."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    def __call__(self, principal: CurrentPrincipal) -> Principal:
        if principal.role not in self.roles:
            raise RoleRequired(roles=", ".join(self.roles))
        return principal


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    return RoleCheck(roles)


MemberPrincipal = Annotated[Principal, Depends(require_roles(Role.MEMBER))]
SupervisorPrincipal = Annotated[Principal, Depends(require_roles(*SUPERVISOR_ROLES))]
