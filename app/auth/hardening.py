"""Sign-in for 等保 2.0 level 3 (GB/T 22239-2019 §8.1.4.1 身份鉴别, §8.1.4.3 安全审计), behind
`policy.security`: password complexity, history and maximum age, account lockout, idle
sessions, the TOTP second factor (RFC 6238), the login log and the security events.

Under the `basic` profile every item is off and nothing here writes but the login log; under
`dengbao3` each is on at the values of `app.core.policy.DENGBAO3` unless set one by one.
"""

from __future__ import annotations

import hmac
import io
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.auth.errors import (
    AccountLocked,
    PasswordExpired,
    PasswordRejected,
    SecondFactorEnrolled,
    SecondFactorEnrolmentRequired,
)
from app.auth.models import LoginAttempt, PasswordHistory, User
from app.auth.principal import Principal
from app.core.policy import SecurityPolicy
from app.core.security import verify_password
from app.core.time import as_utc, utcnow

security_log = logging.getLogger("zhucun.security")

# What a restricted session may still reach (below /api/v1).
RESTRICTED_OPEN = ("/me", "/me/password")
RESTRICTED_OPEN_PREFIXES = ("/me/totp", "/auth/")
ENROLMENT = "second_factor_enrolment"
EXPIRED = "password_expired"
TOTP_ISSUER = "驻村 Zhucun"
# The last request of a session is noted at most this often (a write per request otherwise).
SEEN_GRANULARITY = timedelta(minutes=1)


def security_event(event: str, **fields: object) -> None:
    """One security event on the JSON log (lockout, refresh reuse, TOTP failure…)."""
    security_log.warning(event, extra={"event": event, **fields})


# --- passwords -----------------------------------------------------------------------------


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and anything else `password` uses."""
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


def complexity_problem(policy: SecurityPolicy, password: str) -> tuple[str, str] | None:
    """Why `password` is too simple (zh-CN, en), or None. Length is checked by the caller
    under `basic` exactly as before."""
    if len(password) < policy.password_min_length:
        n = policy.password_min_length
        return f"密码至少 {n} 个字符。", f"A password has at least {n} characters."
    if policy.password_classes and character_classes(password) < policy.password_classes:
        n = policy.password_classes
        return (
            f"密码须包含大写字母、小写字母、数字、其他字符中的至少 {n} 类。",
            f"A password mixes at least {n} of: lower case, upper case, digits, other characters.",
        )
    return None


def check_new_password(session: Session, policy: SecurityPolicy, user: User, password: str) -> None:
    """PasswordRejected unless `password` meets the complexity and history rules in force."""
    problem = complexity_problem(policy, password)
    if problem is not None:
        raise PasswordRejected(reason_zh=problem[0], reason_en=problem[1])
    if not policy.password_history:
        return
    earlier = session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(policy.password_history - 1)
    ).all()
    if any(verify_password(password, h) for h in (user.password_hash, *earlier)):
        n = policy.password_history
        raise PasswordRejected(
            reason_zh=f"新密码不能与最近 {n} 次使用过的密码相同。",
            reason_en=f"The new password may not be one of the last {n}.",
        )


def remember_password(session: Session, user: User, now: datetime) -> None:
    """Keep the password being replaced (its hash), for the history rule."""
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, replaced_at=now))


def password_expired(policy: SecurityPolicy, changed_at: datetime | None, now: datetime) -> bool:
    if not policy.password_max_age_days or changed_at is None:
        return False
    return now - as_utc(changed_at) > timedelta(days=policy.password_max_age_days)


def password_set_at(user: User) -> datetime:
    return user.password_changed_at or user.created_at


def session_restriction(policy: SecurityPolicy, user: User, now: datetime) -> str | None:
    """What a new session of `user` is limited to, if anything."""
    if user.role in policy.second_factor_roles and user.totp_confirmed_at is None:
        return ENROLMENT
    if password_expired(policy, password_set_at(user), now):
        return EXPIRED
    return None


# --- lockout -------------------------------------------------------------------------------


def lockout_on(policy: SecurityPolicy) -> bool:
    return bool(policy.lockout_failures)


def _locked_for(locked_until: datetime | None, now: datetime) -> int:
    if locked_until is None or as_utc(locked_until) <= now:
        return 0
    return max(1, math.ceil((as_utc(locked_until) - now).total_seconds()))


def lock_wait(user: User, now: datetime) -> int:
    """Seconds until `user`'s lockout ends (0: not locked)."""
    return _locked_for(user.locked_until, now)


def reserve_failure(session: Session, policy: SecurityPolicy, username: str) -> int | None:
    """Count this attempt as a wrong password before the password is checked (the caller
    commits at once), so that parallel attempts each see the others and no more passwords
    are checked than the lockout allows. The attempt's place in the row of failures, or None
    for an unknown user. AccountLocked while locked, or when this attempt is past the limit.

    One atomic UPDATE … RETURNING: the row lock orders parallel attempts on both backends."""
    now = utcnow()
    row = session.execute(
        update(User)
        .where(User.username == username[:64])
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.id, User.failed_logins, User.locked_until)
    ).first()
    if row is None:
        return None
    _, count, locked_until = row
    wait = _locked_for(locked_until, now)
    if wait:
        session.execute(
            update(User)
            .where(User.username == username[:64])
            .values(failed_logins=User.failed_logins - 1)
        )
        raise AccountLocked(retry_after=wait)
    assert policy.lockout_failures
    if count > policy.lockout_failures:
        # Parallel attempts already hold every allowed place: this one is not checked.
        raise AccountLocked(retry_after=policy.lockout_minutes * 60)
    return int(count)


def confirm_failure(
    session: Session, policy: SecurityPolicy, user: User, place: int, address: str
) -> None:
    """The reserved attempt was wrong: at the limit the account locks (and the row of
    failures starts again after the lockout)."""
    assert policy.lockout_failures
    if place < policy.lockout_failures:
        return
    now = utcnow()
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(locked_until=now + timedelta(minutes=policy.lockout_minutes), failed_logins=0)
    )
    security_event(
        "account_locked",
        user_id=user.id,
        username=user.username,
        address=address,
        minutes=policy.lockout_minutes,
    )


def clear_failures(session: Session, user: User) -> None:
    session.execute(
        update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None)
    )


def unlock(session: Session, user_id: int) -> User | None:
    user = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        return None
    user.locked_until = None
    user.failed_logins = 0
    session.flush()
    return user


# --- TOTP (RFC 6238) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def enrol(session: Session, user: User) -> Enrolment:
    """A new secret for `user` (replacing one not yet confirmed): its otpauth URI and QR."""
    if user.totp_confirmed_at is not None:
        raise SecondFactorEnrolled()
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_last_step = 0
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=out.getvalue().decode())


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (±1, for clock drift) whose code is `code`, or None."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_code(session: Session, user: User, code: str) -> bool:
    """Whether `code` is a valid code of `user`'s secret not accepted before. Marking its step
    used is one conditional UPDATE: of two requests with one code, one wins."""
    if not user.totp_secret:
        return False
    step = _matching_step(user.totp_secret, code, utcnow())
    if step is None:
        return False
    won = session.execute(
        update(User)
        .where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step)
        .returning(User.id)
    ).first()
    return won is not None


def needs_second_factor(policy: SecurityPolicy, user: User) -> bool:
    """Whether `user` signs in with a code: of a listed role, and enrolled."""
    return user.role in policy.second_factor_roles and user.totp_confirmed_at is not None


def second_factor_failed(user: User, address: str, reason: str) -> None:
    security_event(
        "totp_failure", user_id=user.id, username=user.username, address=address, reason=reason
    )


# --- the login log -------------------------------------------------------------------------


def log_attempt(
    session: Session,
    *,
    username: str,
    user_id: int | None,
    address: str,
    user_agent: str,
    method: str,
    result: str,
) -> None:
    session.add(
        LoginAttempt(
            at=utcnow(),
            username=username[:64],
            user_id=user_id,
            address=address[:64],
            user_agent=user_agent[:200],
            method=method,
            result=result[:40],
        )
    )
    session.flush()


def purge_login_log(session: Session, policy: SecurityPolicy) -> int:
    """Delete login attempts older than `login_log_days`; how many."""
    cutoff = utcnow() - timedelta(days=policy.login_log_days)
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


# --- every request -------------------------------------------------------------------------


def restricted_path_open(path: str) -> bool:
    return path in RESTRICTED_OPEN or path.startswith(RESTRICTED_OPEN_PREFIXES)


def refuse_restricted(restriction: str | None) -> None:
    if restriction == ENROLMENT:
        raise SecondFactorEnrolmentRequired()
    if restriction is not None:
        raise PasswordExpired()


def effective_restriction(
    policy: SecurityPolicy, principal: Principal, now: datetime
) -> str | None:
    if principal.restriction is not None:
        return principal.restriction
    if password_expired(policy, principal.password_set_at, now):
        return EXPIRED
    return None


def idle_for(policy: SecurityPolicy, principal: Principal, now: datetime) -> timedelta | None:
    """How long a non-member session has been idle when an idle timeout is in force."""
    if not policy.idle_timeout_minutes or principal.role == "member":
        return None
    if principal.last_active_at is None:
        return None
    return now - as_utc(principal.last_active_at)
