"""Sign-in (password, refresh, WeChat), sign-out, `GET /me`, password change, deactivation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import accounts, hardening, service, sessions
from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import (
    AccountLocked,
    CannotDeactivateSelf,
    InvalidCredentials,
    InvalidRefreshToken,
    InvalidSecondFactor,
    InvalidTokenError,
    PasswordRejected,
    RejectedTotpCode,
    RoleRequired,
    SecondFactorEnrolled,
    SecondFactorRequired,
    SessionIdle,
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
from app.auth.models import LoginAttempt, User
from app.auth.principal import Principal
from app.auth.schemas import (
    LoginAttemptOut,
    LoginForm,
    LoginIn,
    Me,
    PasswordChangeIn,
    RefreshIn,
    Token,
    TotpConfirmIn,
    TotpEnrolmentOut,
    UserOut,
    WechatLoginIn,
)
from app.auth.wechat import code2session
from app.core import proxies
from app.core.bodies import form_or_json, form_or_json_openapi
from app.core.config import Settings
from app.core.deps import PolicyDep, SessionDep, SettingsDep
from app.core.errors import AppError, NotAuthenticated, ValidationFailed, error_responses
from app.core.inputs import MAX_BIG_ID, Day, IdPath, Text, is_storable_text
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    next_id_cursor,
)
from app.core.policy import Policy
from app.core.proxies import parse_networks
from app.core.time import today, utcnow

router = APIRouter(tags=["auth"])
users_router = APIRouter(tags=["users"])

# Accounts: the admin, or under separation of duties (三员分立) the system administrator.
AdminPrincipal = Annotated[Principal, Depends(require_roles("admin", "sysadmin"))]
# Unlocking accounts: the security administrator (and the admin where duties are not split).
SecurityAdminPrincipal = Annotated[Principal, Depends(require_roles("admin", "security_admin"))]
# The login log: the audit administrator, auditors, the admin (never the system administrator).
LoginLogReader = Annotated[Principal, Depends(require_roles("audit_admin", "auditor", "admin"))]
audit_router = APIRouter(prefix="/audit", tags=["audit"])


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


@dataclass
class _Checked:
    """A user whose password was right, and the attempt's reserved place in the row of
    failures (None when no lockout is in force), which the second factor may still fail."""

    user: User
    place: int | None


def _checked_user(
    session: Session,
    request: Request,
    username: str,
    password: str,
    policy: Policy,
    refusal: type[InvalidCredentials | WrongPassword] = InvalidCredentials,
    method: str | None = None,
) -> _Checked:
    """The user with these credentials, throttled (`service.begin_attempt`): the attempt is
    committed as a failure before the password is checked, so that parallel attempts each see
    the others, and stays one (committed) when the password is wrong. With a lockout in
    force, the account's row of failures is counted the same way (app.auth.hardening).
    `method`: a sign-in, logged as such (a password change's check is not)."""
    for field, value in (("username", username), ("password", password)):
        if not is_storable_text(value):
            raise ValidationFailed([{"loc": ["body", field], "msg": "must be text without NUL"}])
    security = policy.security
    address = client_address(request)

    def refuse(exc: AppError, user_id: int | None = None) -> AppError:
        if method is not None:
            _log(session, request, username, user_id, method, exc.code)
        session.commit()  # the failure (and its log line) must stay though the request fails
        return exc

    lockout = hardening.lockout_on(security)
    try:
        attempt = service.begin_attempt(session, username, address, per_username=not lockout)
        place = hardening.reserve_failure(session, security, username) if lockout else None
    except (TooManyAttempts, AccountLocked) as exc:
        raise refuse(exc) from None
    session.commit()
    user = service.check_password(session, attempt, username, password)
    if user is None:
        if place is not None:
            found = session.scalar(select(User).where(User.username == username[:64]))
            if found is not None:
                hardening.confirm_failure(session, security, found, place, address)
        raise refuse(refusal())
    return _Checked(user, place)


def _log(
    session: Session,
    request: Request,
    username: str,
    user_id: int | None,
    method: str,
    result: str,
) -> None:
    hardening.log_attempt(
        session,
        username=username,
        user_id=user_id,
        address=client_address(request),
        user_agent=_user_agent(request),
        method=method,
        result=result,
    )


def _second_factor(
    session: Session,
    request: Request,
    policy: Policy,
    checked: _Checked,
    code: str | None,
    method: str,
) -> None:
    """Check the TOTP code of a user who signs in with one (401 otherwise); then the row of
    failures starts again."""
    security, user = policy.security, checked.user
    if hardening.needs_second_factor(security, user):
        refusal: AppError | None = None
        if not code:
            refusal = SecondFactorRequired()
        elif not hardening.accept_code(session, user, code):
            refusal = InvalidSecondFactor()
            hardening.second_factor_failed(user, client_address(request), "wrong_or_used_code")
        if refusal is not None:
            session.rollback()
            if checked.place is not None:
                hardening.confirm_failure(
                    session, security, user, checked.place, client_address(request)
                )
            _log(session, request, user.username, user.id, method, refusal.code)
            session.commit()
            raise refusal
    if checked.place is not None:
        hardening.clear_failures(session, user)


def _open(
    session: Session,
    request: Request,
    settings: Settings,
    policy: Policy,
    user: User,
    method: str,
) -> Token:
    restriction = hardening.session_restriction(policy.security, user, utcnow())
    pair = sessions.open_session(
        session,
        user,
        settings,
        method=method,
        user_agent=_user_agent(request),
        restriction=restriction,
    )
    _log(session, request, user.username, user.id, method, "success")
    return _token(pair)


async def login_credentials(request: Request) -> LoginForm | LoginIn:
    """The sign-in body: the OAuth2 form, or the same fields as JSON (`wx.request`)."""
    return await form_or_json(request, LoginForm, LoginIn)


@router.post(
    "/auth/token",
    response_model=Token,
    responses=error_responses(
        InvalidCredentials,
        TooManyAttempts,
        AccountLocked,
        SecondFactorRequired,
        InvalidSecondFactor,
    ),
    openapi_extra=form_or_json_openapi(
        LoginForm, LoginIn, description="the OAuth2 password form, or the same fields as JSON"
    ),
)
def login(
    request: Request,
    credentials: Annotated[LoginForm | LoginIn, Depends(login_credentials)],
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
) -> Token:
    """Exchange a username and password for an access and a refresh token (OAuth2 password
    flow). The same fields may come as JSON (`wx.request` in a mini-program): same throttle,
    same answer.

    Under `policy.security` (等保 level 3): a role of `second_factor_roles` with a confirmed
    TOTP factor sends `totp` too (401 `second_factor_required` / `invalid_second_factor`);
    one not yet enrolled gets a session good only for `/me`, `/me/totp…`, `/me/password` and
    `/auth/*`; `lockout_failures` wrong passwords in a row lock the account (423). Every
    attempt is logged (`GET /audit/logins`)."""
    checked = _checked_user(
        session, request, credentials.username, credentials.password, policy, method="password"
    )
    _second_factor(session, request, policy, checked, credentials.totp, "password")
    return _open(session, request, settings, policy, checked.user, "password")


@router.post(
    "/auth/refresh",
    response_model=Token,
    responses=error_responses(InvalidRefreshToken, SessionIdle),
)
def refresh_tokens(
    body: RefreshIn, session: SessionDep, settings: SettingsDep, policy: PolicyDep
) -> Token:
    """A new token pair for a refresh token, which stops working (rotation). Presenting a
    refresh token that was already exchanged ends its whole session: someone else has it.
    With an idle timeout in force, an idle non-member session ends (401 `session_idle`)."""
    try:
        pair = sessions.refresh(session, body.refresh_token, settings, policy.security)
    except (InvalidRefreshToken, SessionIdle):
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
        AccountLocked,
        SecondFactorRequired,
        WechatUnavailable,
        WechatDisabled,
    ),
)
def login_with_wechat(
    body: WechatLoginIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    policy: PolicyDep,
) -> Token:
    """Sign in from a WeChat mini-program with `wx.login`'s code.

    The code is exchanged through WeChat's code2session for the user's openid. A bound openid
    signs in its account. The first time, send `username` and `password` with the code: the
    password is checked (and throttled as `/auth/token` is) and the openid is bound to that
    account. A code works once: after `wechat_not_bound`, call `wx.login` again. An account
    that signs in with a TOTP code (`policy.security`) signs in at `/auth/token` only (401
    `second_factor_required`).
    """
    identity = code2session(settings, body.code)  # before any database work: no lock held
    if body.username is not None and body.password is not None:
        checked = _checked_user(
            session, request, body.username, body.password, policy, method="wechat"
        )
        user = checked.user
        if hardening.needs_second_factor(policy.security, user):
            _log(session, request, user.username, user.id, "wechat", "second_factor_required")
            session.commit()
            raise SecondFactorRequired()
        if checked.place is not None:
            hardening.clear_failures(session, user)
        accounts.bind_wechat(session, user, identity)
    else:
        found = accounts.wechat_user(session, identity)
        if found is None:
            raise WechatNotBound()
        if not found.is_active:
            _log(session, request, found.username, found.id, "wechat", "invalid_credentials")
            session.commit()
            raise InvalidCredentials()
        if hardening.needs_second_factor(policy.security, found):
            _log(session, request, found.username, found.id, "wechat", "second_factor_required")
            session.commit()
            raise SecondFactorRequired()
        locked = hardening.lock_wait(found, utcnow())
        if locked:
            _log(session, request, found.username, found.id, "wechat", "account_locked")
            session.commit()
            raise AccountLocked(retry_after=locked)
        user = found
    return _open(session, request, settings, policy, user, "wechat")


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
        NotAuthenticated,
        InvalidTokenError,
        WrongPassword,
        WeakPassword,
        PasswordRejected,
        TooManyAttempts,
        AccountLocked,
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
    one stays. A wrong current password counts as a failed login. Under `policy.security`
    the new password meets its complexity and history rules (422 `weak_password`), and an
    expired password's session is free again."""
    checked = _checked_user(
        session, request, principal.username, body.current_password, policy, refusal=WrongPassword
    )
    if checked.place is not None:
        hardening.clear_failures(session, checked.user)
    accounts.change_password(
        session,
        checked.user,
        body.new_password,
        keep_session=principal.session_id,
        today=today(policy.zone),
        security=policy.security,
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


@router.post(
    "/me/totp",
    response_model=TotpEnrolmentOut,
    responses=error_responses(NotAuthenticated, InvalidTokenError, SecondFactorEnrolled),
)
def enrol_totp(principal: CurrentPrincipal, session: SessionDep) -> TotpEnrolmentOut:
    """Start (or restart) a TOTP enrolment (RFC 6238): a new secret, as text, as an otpauth URI
    and as a QR code to scan. Confirm it with a code (`POST /me/totp/confirm`); until then
    sign-ins do not ask for codes. 409 once a factor is confirmed."""
    user = session.get(User, principal.user_id)
    assert user is not None
    enrolment = hardening.enrol(session, user)
    return TotpEnrolmentOut(
        secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri, qr_svg=enrolment.qr_svg
    )


@router.post(
    "/me/totp/confirm",
    status_code=204,
    responses=error_responses(
        NotAuthenticated, InvalidTokenError, RejectedTotpCode, SecondFactorEnrolled
    ),
)
def confirm_totp(body: TotpConfirmIn, principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Confirm the enrolment with the code the app shows: from now on this account signs in
    with a code, and this session, limited to enrolling until now, is free."""
    user = session.scalar(select(User).where(User.id == principal.user_id).with_for_update())
    assert user is not None
    accounts.confirm_totp(session, user, body.code, session_id=principal.session_id)
    return Response(status_code=204)


@users_router.post(
    "/users/{user_id}/unlock",
    response_model=UserOut,
    responses=error_responses(NotAuthenticated, InvalidTokenError, RoleRequired, UserNotFound),
)
def unlock_user(
    user_id: IdPath, principal: SecurityAdminPrincipal, session: SessionDep, policy: PolicyDep
) -> UserOut:
    """End an account's lockout early (security_admin; admin where duties are not split)."""
    user = accounts.unlock(
        session, user_id, acting_user_id=principal.user_id, today=today(policy.zone)
    )
    return _user_out(user)


@audit_router.get(
    "/logins",
    response_model=Page[LoginAttemptOut],
    responses=error_responses(RoleRequired, InvalidCursor),
)
def list_logins(
    _: LoginLogReader,
    session: SessionDep,
    policy: PolicyDep,
    username: Annotated[Text | None, Query(max_length=64, description="only this username")] = None,
    result: Annotated[
        Text | None, Query(max_length=40, description="only this result, e.g. account_locked")
    ] = None,
    from_: Annotated[Day | None, Query(alias="from", description="from this local date on")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[LoginAttemptOut]:
    """Every login attempt (登录日志), newest first, kept `policy.security.login_log_days`
    (180) days in both profiles: who, from where, with which user agent, and the result."""
    query = select(LoginAttempt).order_by(LoginAttempt.id.desc()).limit(limit + 1)
    before = cursor_id(cursor, MAX_BIG_ID)
    if before is not None:
        query = query.where(LoginAttempt.id < before)
    if username:
        query = query.where(LoginAttempt.username == username)
    if result:
        query = query.where(LoginAttempt.result == result)
    if from_ is not None:
        # In UTC: SQLite compares the stored UTC text, and would read a +08:00 bound as UTC.
        since = datetime.combine(from_, datetime.min.time(), policy.zone).astimezone(UTC)
        query = query.where(LoginAttempt.at >= since)
    rows = list(session.scalars(query))
    page = rows[:limit]
    return Page[LoginAttemptOut](
        items=[
            LoginAttemptOut(
                id=a.id,
                at=a.at,
                username=a.username,
                user_id=a.user_id,
                address=a.address,
                user_agent=a.user_agent,
                method=a.method,
                result=a.result,
            )
            for a in page
        ],
        next_cursor=next_id_cursor([r.id for r in rows], limit),
    )
