"""Authentication and role checks as FastAPI dependencies."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.errors import InvalidTokenError, RoleRequired
from app.auth.principal import SUPERVISOR_ROLES, Principal
from app.auth.roles import Role
from app.auth.service import principal_for
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotAuthenticated
from app.core.security import InvalidToken, TokenClaims, read_token

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
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]

# Tokens whose signature was verified, with their expiry: checking an HS256 signature cost
# more than the database lookup of the user. Only the token's own content is cached; whether
# the user may still act, and whether the token's session is still open, is read from the
# database on every request.
_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], TokenClaims] = {}


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
