"""What a signed-in user or an admin does to an account: password change, deactivation, and
binding a WeChat mini-program user."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth import sessions
from app.auth.errors import (
    CannotDeactivateSelf,
    UserNotFound,
    WeakPassword,
    WechatBoundElsewhere,
)
from app.auth.models import User, WechatBinding
from app.auth.service import MIN_PASSWORD_LENGTH
from app.auth.wechat import WechatIdentity
from app.core.security import hash_password, verify_password
from app.core.time import utcnow


def logged_about(user: User, today: date) -> audit_actions.About | None:
    """What an entry about `user` concerns: a member account's member, as of `today` (the
    local date); any other account concerns no member."""
    if user.role != "member" or user.member_id is None:
        return None
    return audit_actions.About(user.member_id, today)


def change_password(
    session: Session, user: User, new_password: str, *, keep_session: str, today: date
) -> int:
    """Set a new password and end every other session of the user; how many were ended.

    The caller has checked the current password (with throttling). `today`: the local date."""
    if len(new_password) < MIN_PASSWORD_LENGTH or verify_password(new_password, user.password_hash):
        raise WeakPassword(min_length=MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(new_password)
    ended = sessions.revoke_user_sessions(session, user.id, "password_changed", keep=keep_session)
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
