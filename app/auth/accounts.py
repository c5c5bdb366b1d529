"""What a signed-in user or an admin does to an account: password change, deactivation, and
binding a WeChat mini-program user."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth import hardening, sessions
from app.auth.errors import (
    CannotDeactivateSelf,
    UserNotFound,
    WeakPassword,
    WechatBoundElsewhere,
)
from app.auth.models import AuthSession, User, WechatBinding
from app.auth.service import MIN_PASSWORD_LENGTH
from app.auth.wechat import WechatIdentity
from app.core.policy import SecurityPolicy
from app.core.security import hash_password, verify_password
from app.core.time import utcnow


def logged_about(user: User, today: date) -> audit_actions.About | None:
    """What an entry about `user` concerns: a member account's member, as of `today` (the
    local date); any other account concerns no member."""
    if user.role != "member" or user.member_id is None:
        return None
    return audit_actions.About(user.member_id, today)


def change_password(
    session: Session,
    user: User,
    new_password: str,
    *,
    keep_session: str,
    today: date,
    security: SecurityPolicy | None = None,
) -> int:
    """Set a new password and end every other session of the user; how many were ended.

    The caller has checked the current password (with throttling). `today`: the local date.
    `security`: the complexity and history rules in force (app.auth.hardening)."""
    if len(new_password) < MIN_PASSWORD_LENGTH or verify_password(new_password, user.password_hash):
        raise WeakPassword(min_length=MIN_PASSWORD_LENGTH)
    now = utcnow()
    if security is not None:
        hardening.check_new_password(session, security, user, new_password)
        if security.password_history:
            hardening.remember_password(session, user, now)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    ended = sessions.revoke_user_sessions(session, user.id, "password_changed", keep=keep_session)
    # This session was limited for the old password's age only: it is free again.
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == keep_session, AuthSession.restriction == hardening.EXPIRED)
        .values(restriction=None)
    )
    audit_actions.record(
        session,
        actor=user.id,
        action="user.password_change",
        subject=f"user:{user.id}",
        payload={"sessions_ended": ended},
        about=logged_about(user, today),
    )
    session.flush()
    return ended


def _locked_user(session: Session, user_id: int) -> User:
    user = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise UserNotFound()
    return user


def set_active(
    session: Session, user_id: int, active: bool, *, acting_user_id: int, today: date
) -> User:
    """Deactivate (every session ends at once) or reactivate an account. `today`: the local
    date."""
    if user_id == acting_user_id and not active:
        raise CannotDeactivateSelf()
    user = _locked_user(session, user_id)
    user.is_active = active
    if not active:
        sessions.revoke_user_sessions(session, user.id, "deactivated")
    audit_actions.record(
        session,
        actor=acting_user_id,
        action="user.activate" if active else "user.deactivate",
        subject=f"user:{user.id}",
        payload={"username": user.username, "is_active": active},
        about=logged_about(user, today),
    )
    session.flush()
    return user


def wechat_user(session: Session, identity: WechatIdentity) -> User | None:
    """The account bound to this WeChat user, or None when there is none."""
    return session.scalar(
        select(User)
        .join(WechatBinding, WechatBinding.user_id == User.id)
        .where(WechatBinding.appid == identity.appid, WechatBinding.openid == identity.openid)
    )


def bind_wechat(session: Session, user: User, identity: WechatIdentity) -> None:
    """Bind a WeChat user to `user` (whose password the caller has checked).

    One WeChat user per account and one account per WeChat user, per mini-program:
    WechatBoundElsewhere otherwise. The user's row is locked first, so that two first logins
    of one account cannot both bind; the unique keys catch two accounts racing for one openid.
    """
    _locked_user(session, user.id)
    current = session.scalar(
        select(WechatBinding).where(
            WechatBinding.appid == identity.appid, WechatBinding.user_id == user.id
        )
    )
    if current is not None:
        if current.openid != identity.openid:
            raise WechatBoundElsewhere()
        return
    try:
        with session.begin_nested():
            session.add(
                WechatBinding(
                    appid=identity.appid, openid=identity.openid, user_id=user.id, bound_at=utcnow()
                )
            )
    except IntegrityError:
        raise WechatBoundElsewhere() from None


def unlock(session: Session, user_id: int, *, acting_user_id: int, today: date) -> User:
    """End a lockout early (a security administrator)."""
    user = _locked_user(session, user_id)
    was = user.locked_until
    user.locked_until = None
    user.failed_logins = 0
    audit_actions.record(
        session,
        actor=acting_user_id,
        action="user.unlock",
        subject=f"user:{user.id}",
        payload={"username": user.username, "was_locked_until": was},
        about=logged_about(user, today),
    )
    session.flush()
    return user


def confirm_totp(session: Session, user: User, code: str, *, session_id: str) -> None:
    """Confirm an enrolment with its first code: from now on the user signs in with codes,
    and this session (which proved both factors) is no longer limited to enrolling."""
    from app.auth.errors import RejectedTotpCode, SecondFactorEnrolled

    if user.totp_confirmed_at is not None:
        raise SecondFactorEnrolled()
    if not hardening.accept_code(session, user, code):
        raise RejectedTotpCode()
    user.totp_confirmed_at = utcnow()
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.restriction == hardening.ENROLMENT)
        .values(restriction=None)
    )
    audit_actions.record(
        session,
        actor=user.id,
        action="user.totp_confirm",
        subject=f"user:{user.id}",
        payload={"username": user.username},
    )
    session.flush()
