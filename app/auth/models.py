"""User accounts, signed-in sessions with their refresh tokens, WeChat bindings, and the record
of failed logins that throttling counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.roles import ROLES
from app.core.db import Base

__all__ = [
    "ROLES",
    "AuthSession",
    "LoginAttempt",
    "LoginFailure",
    "PasswordHistory",
    "RefreshToken",
    "User",
    "WechatBinding",
]

ROLE_CHECK = "role IN ({})".format(", ".join(f"'{r}'" for r in ROLES))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    # A division-code prefix, or a dispatching unit's name for role `unit`; "" for admin.
    scope: Mapped[str] = mapped_column(String(200), default="")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The dengbao3 items (policy.security): when the password was last set (None: at
    # created_at), wrong passwords in a row, and the end of a lockout.
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # TOTP (RFC 6238): the base32 secret, when its first code was confirmed, and the last time
    # step accepted (a code is accepted once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role"),)


class PasswordHistory(Base):
    """A password a user had before (its argon2 hash): a new one may not repeat the last few."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """Every login attempt, successful or not (等保: 登录日志), kept `login_log_days`."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(16))  # password, wechat
    result: Mapped[str] = mapped_column(String(40))  # success, or the refusal's code


class LoginFailure(Base):
    """One failed login; throttling counts these within a sliding window."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_login_failures_username_at", "username", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )


class AuthSession(Base):
    """One signed-in device: what a refresh-token family and its access tokens belong to.

    Access tokens name their session (`sid`); revoking the session ends them at once, because
    every request reads the user and the session together.
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # How it was opened: "password" or "wechat".
    method: Mapped[str] = mapped_column(String(16))
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # logout, password_changed, deactivated, refresh_reuse, idle
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # The last request seen (kept only while an idle timeout is in force, to the minute).
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the session may do besides /me, /me/password, /me/totp… and /auth/*: nothing while
    # "second_factor_enrolment" or "password_expired"; None: everything its role allows.
    restriction: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """A refresh token, stored as its SHA-256 only. Each refresh rotates it: the old row keeps
    `rotated_at`, so that presenting it again is recognised as reuse of a stolen token (past
    the grace), and `successor`, the pair it was exchanged for, sealed with a key only the old
    token opens (app.auth.successor), answered again within the grace."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    successor: Mapped[bytes | None] = mapped_column(LargeBinary)


class WechatBinding(Base):
    """A WeChat mini-program user (openid, per app) bound to one account."""

    __tablename__ = "wechat_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appid: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("appid", "openid"),
        UniqueConstraint("appid", "user_id"),
    )
