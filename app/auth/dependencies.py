"""Authentication and role checks as FastAPI dependencies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.errors import InvalidTokenError, RoleRequired
from app.auth.principal import Principal
from app.auth.service import principal_for
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotAuthenticated
from app.core.security import InvalidToken, read_token

_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal:
    if not token:
        raise NotAuthenticated()
    try:
        claims = read_token(token, settings.secret_key)
    except InvalidToken:
        raise InvalidTokenError() from None
    principal = principal_for(session, claims.user_id)
    if principal is None:
        raise InvalidTokenError()
    request.state.user_id = principal.user_id
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only these roles through (403 `role_required` otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise RoleRequired(roles=", ".join(roles))
        return principal

    return check


MemberPrincipal = Annotated[Principal, Depends(require_roles("member"))]
SupervisorPrincipal = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "admin"))
]
