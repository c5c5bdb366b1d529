"""`POST /auth/token` and `GET /me`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.dependencies import CurrentPrincipal
from app.auth.errors import InvalidCredentials, InvalidTokenError, TooManyAttempts
from app.auth.models import User
from app.auth.schemas import Me, Token
from app.core import proxies
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotAuthenticated, ValidationFailed, error_responses
from app.core.inputs import is_storable_text
from app.core.proxies import parse_networks
from app.core.security import TokenClaims, issue_token

router = APIRouter(tags=["auth"])


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else "unknown"
    trusted = parse_networks(request.app.state.settings.trusted_proxies)
    return proxies.client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


@router.post(
    "/auth/token",
    response_model=Token,
    responses=error_responses(InvalidCredentials, TooManyAttempts),
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a bearer token (OAuth2 password flow)."""
    for field, value in (("username", form.username), ("password", form.password)):
        if not is_storable_text(value):
            raise ValidationFailed([{"loc": ["body", field], "msg": "must be text without NUL"}])
    attempt = service.begin_attempt(session, form.username, client_address(request))
    session.commit()  # parallel attempts must see this one before any password is checked
    user = service.check_password(session, attempt, form.username, form.password)
    if user is None:
        session.commit()  # the failure must count even though the request is refused
        raise InvalidCredentials()
    token = issue_token(
        TokenClaims(user_id=user.id, role=user.role, scope=user.scope),
        settings.secret_key,
        settings.token_ttl_seconds,
    )
    return Token(access_token=token, expires_in=settings.token_ttl_seconds)


@router.get(
    "/me", response_model=Me, responses=error_responses(NotAuthenticated, InvalidTokenError)
)
def me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    user = session.get(User, principal.user_id)
    assert user is not None
    return Me(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        scope=user.scope,
        member_id=user.member_id,
    )
