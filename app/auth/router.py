"""Sign-in (password, refresh, WeChat), sign-out, `GET /me`, password change, deactivation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from app.auth import accounts, service, sessions
from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import (
    CannotDeactivateSelf,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidTokenError,
    RoleRequired,
    TooManyAttempts,
    UserNotFound,
    WeakPassword,
    WechatBoundElsewhere,
    WechatCodeInvalid,
    WechatDisabled,
    WechatNotBound,
    WechatUnavailable,
    WrongPassword,
)
from app.auth.models import User
from app.auth.principal import Principal
from app.auth.schemas import (
    LoginForm,
    LoginIn,
    Me,
    PasswordChangeIn,
    RefreshIn,
    Token,
    UserOut,
    WechatLoginIn,
)
from app.auth.wechat import code2session
from app.core import proxies
from app.core.bodies import form_or_json, form_or_json_openapi
from app.core.deps import PolicyDep, SessionDep, SettingsDep
from app.core.errors import NotAuthenticated, ValidationFailed, error_responses
from app.core.inputs import IdPath, is_storable_text
from app.core.proxies import parse_networks
from app.core.time import today

router = APIRouter(tags=["auth"])
users_router = APIRouter(tags=["users"])

AdminPrincipal = Annotated[Principal, Depends(require_roles("admin"))]


def client_address(request: Request) -> str:
    peer = request.client.host if request.client else "unknown"
    trusted = parse_networks(request.app.state.settings.trusted_proxies)
    return proxies.client_address(peer, request.headers.getlist("x-forwarded-for"), trusted)


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def _token(pair: sessions.TokenPair) -> Token:
    return Token(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


def _checked_user(
    session: Session,
    request: Request,
    username: str,
    password: str,
    refusal: type[InvalidCredentials | WrongPassword] = InvalidCredentials,
) -> User:
    """The user with these credentials, throttled (`service.begin_attempt`): the attempt is
    committed as a failure before the password is checked, so that parallel attempts each see
    the others, and stays one (committed) when the password is wrong."""
    for field, value in (("username", username), ("password", password)):
        if not is_storable_text(value):
            raise ValidationFailed([{"loc": ["body", field], "msg": "must be text without NUL"}])
    attempt = service.begin_attempt(session, username, client_address(request))
    session.commit()
    user = service.check_password(session, attempt, username, password)
    if user is None:
        session.commit()  # the failure must count even though the request is refused
        raise refusal()
    return user


async def login_credentials(request: Request) -> LoginForm | LoginIn:
    """The sign-in body: the OAuth2 form, or the same fields as JSON (`wx.request`)."""
    return await form_or_json(request, LoginForm, LoginIn)


@router.post(
    "/auth/token",
    response_model=Token,
    responses=error_responses(InvalidCredentials, TooManyAttempts),
    openapi_extra=form_or_json_openapi(
        LoginForm, LoginIn, description="the OAuth2 password form, or the same fields as JSON"
    ),
)
def login(
    request: Request,
    credentials: Annotated[LoginForm | LoginIn, Depends(login_credentials)],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for an access and a refresh token (OAuth2 password
    flow). The same fields may come as JSON (`wx.request` in a mini-program): same throttle,
    same answer."""
    user = _checked_user(session, request, credentials.username, credentials.password)
    pair = sessions.open_session(
        session, user, settings, method="password", user_agent=_user_agent(request)
    )
    return _token(pair)


@router.post(
    "/auth/refresh",
    response_model=Token,
    responses=error_responses(InvalidRefreshToken),
)
def refresh_tokens(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> Token:
    """A new token pair for a refresh token, which stops working (rotation). Presenting a
    refresh token that was already exchanged ends its whole session: someone else has it."""
    try:
        pair = sessions.refresh(session, body.refresh_token, settings)
    except InvalidRefreshToken:
        session.commit()  # a detected reuse revoked the session: keep that
        raise
    return _token(pair)


@router.post(
    "/auth/wechat",
    response_model=Token,
    responses=error_responses(
        InvalidCredentials,
        WechatCodeInvalid,
        WechatNotBound,
        WechatBoundElsewhere,
        TooManyAttempts,
        WechatUnavailable,
        WechatDisabled,
    ),
)
def login_with_wechat(
    body: WechatLoginIn, request: Request, session: SessionDep, settings: SettingsDep
) -> Token:
    """Sign in from a WeChat mini-program with `wx.login`'s code.

    The code is exchanged through WeChat's code2session for the user's openid. A bound openid
    signs in its account. The first time, send `username` and `password` with the code: the
    password is checked (and throttled as `/auth/token` is) and the openid is bound to that
    account. A code works once: after `wechat_not_bound`, call `wx.login` again.
    """
    identity = code2session(settings, body.code)  # before any database work: no lock held
    if body.username is not None and body.password is not None:
        user = _checked_user(session, request, body.username, body.password)
        accounts.bind_wechat(session, user, identity)
    else:
        found = accounts.wechat_user(session, identity)
        if found is None:
            raise WechatNotBound()
        if not found.is_active:
            raise InvalidCredentials()
        user = found
    pair = sessions.open_session(
        session, user, settings, method="wechat", user_agent=_user_agent(request)
    )
    return _token(pair)


@router.post(
    "/auth/logout",
    status_code=204,
    responses=error_responses(NotAuthenticated, InvalidTokenError),
)
def logout(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """End this session: its access token and refresh token stop working at once."""
    sessions.revoke_session(session, principal.session_id, "logout")
    return Response(status_code=204)


@router.get(
    "/me", response_model=Me, responses=error_responses(NotAuthenticated, InvalidTokenError)
)
def get_me(principal: CurrentPrincipal, session: SessionDep) -> Me:
    user = session.get(User, principal.user_id)
    assert user is not None
    return Me(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        scope=user.scope,
        member_id=user.member_id,
        notice_version=user.notice_version,
    )


@router.post(
    "/me/password",
    status_code=204,
    responses=error_responses(
        NotAuthenticated, InvalidTokenError, WrongPassword, WeakPassword, TooManyAttempts
    ),
)
def change_password(
    body: PasswordChangeIn,
    principal: CurrentPrincipal,
    request: Request,
    session: SessionDep,
    policy: PolicyDep,
) -> Response:
    """Change one's password. Every other session (other phones, browsers) is signed out; this
    one stays. A wrong current password counts as a failed login."""
    user = _checked_user(
        session, request, principal.username, body.current_password, refusal=WrongPassword
    )
    accounts.change_password(
        session,
        user,
        body.new_password,
        keep_session=principal.session_id,
        today=today(policy.zone),
    )
    return Response(status_code=204)


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        scope=user.scope,
        member_id=user.member_id,
        is_active=user.is_active,
        created_at=user.created_at,
    )


@users_router.post(
    "/users/{user_id}/deactivate",
    response_model=UserOut,
    responses=error_responses(
        NotAuthenticated, InvalidTokenError, RoleRequired, UserNotFound, CannotDeactivateSelf
    ),
)
def deactivate_user(
    user_id: IdPath, principal: AdminPrincipal, session: SessionDep, policy: PolicyDep
) -> UserOut:
    """Deactivate an account (admin): it can no longer sign in, and its tokens stop working at
    once. Its records stay."""
    user = accounts.set_active(
        session, user_id, False, acting_user_id=principal.user_id, today=today(policy.zone)
    )
    return _user_out(user)


@users_router.post(
    "/users/{user_id}/activate",
    response_model=UserOut,
    responses=error_responses(NotAuthenticated, InvalidTokenError, RoleRequired, UserNotFound),
)
def activate_user(
    user_id: IdPath, principal: AdminPrincipal, session: SessionDep, policy: PolicyDep
) -> UserOut:
    """Reactivate a deactivated account (admin); it signs in afresh."""
    user = accounts.set_active(
        session, user_id, True, acting_user_id=principal.user_id, today=today(policy.zone)
    )
    return _user_out(user)
