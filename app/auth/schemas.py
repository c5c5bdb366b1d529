"""Auth request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from app.auth.roles import Role
from app.core.inputs import STORABLE_TEXT_PATTERN, SchemaPattern, Text
from app.core.time import UtcDateTime

# Sign-in names and passwords with NUL are refused 422 before any lookup (auth/router.py).
Credential = Annotated[str, SchemaPattern(STORABLE_TEXT_PATTERN)]


def _no_null_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class LoginForm(BaseModel):
    """OAuth2 password grant (RFC 6749 §4.3), form-encoded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"grant_type": "password", "username": "demo-county", "password": "demo-password"}
            ]
        }
    )

    # Optional, never null: a form has no null (`grant_type=null` is the text "null"); so no
    # `"default": null` in the schema either.
    grant_type: Annotated[
        Literal["password"] | None, WithJsonSchema({"type": "string", "enum": ["password"]})
    ] = Field(
        default=None,
        description="password (the only grant here; refresh: /auth/refresh)",
        json_schema_extra=_no_null_default,
    )
    # min_length 1: an empty form field arrives as a missing one (FastAPI's form parsing).
    username: Credential = Field(min_length=1, max_length=200, description="sign-in name (用户名)")
    password: Credential = Field(min_length=1, max_length=200, description="password (密码)")
    scope: str = Field(default="", description="ignored: what a user sees follows their role")
    totp: Annotated[str | None, WithJsonSchema({"type": "string", "maxLength": 16})] = Field(
        default=None,
        max_length=16,
        description="TOTP code (动态口令) of an account that signs in with one",
        json_schema_extra=_no_null_default,
    )


class LoginIn(BaseModel):
    """The same sign-in as `LoginForm`, sent as JSON (`wx.request` in a mini-program)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "demo-county", "password": "demo-password"}]},
    )

    username: Credential = Field(min_length=1, max_length=200, description="sign-in name (用户名)")
    password: Credential = Field(min_length=1, max_length=200, description="password (密码)")
    totp: str | None = Field(
        default=None,
        max_length=16,
        description="TOTP code (动态口令) of an account that signs in with one",
    )


class TotpEnrolmentOut(BaseModel):
    """A new TOTP secret (RFC 6238, SHA-1, 6 digits, 30 s): scan the QR code or type the
    secret into an authenticator app, then confirm with `POST /me/totp/confirm`."""

    secret: str = Field(description="base32 secret")
    otpauth_uri: str = Field(description="otpauth://totp/… (Key Uri Format)")
    qr_svg: str = Field(description="the URI as a QR code, an SVG document")


class TotpConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "492039"}]})

    code: str = Field(min_length=1, max_length=16, description="the 6 digits the app shows")


class LoginAttemptOut(BaseModel):
    """One login attempt (登录日志)."""

    id: int
    at: UtcDateTime
    username: str = Field(description="as typed")
    user_id: int | None = Field(description="the account, when the username named one")
    address: str
    user_agent: str
    method: Literal["password", "wechat"]
    result: str = Field(
        description="success, or the refusal's code (invalid_credentials, too_many_attempts, "
        "account_locked, second_factor_required, invalid_second_factor, …)"
    )


class Token(BaseModel):
    """A signed-in session's tokens (登录令牌)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…",
                    "token_type": "bearer",
                    "expires_in": 28800,
                    "refresh_token": "q3Jx0m4o2Yb6cWw1v9kT-7b2Lr8sZc5fHhXy3nVd0aE",
                    "refresh_expires_in": 2592000,
                }
            ]
        }
    )

    access_token: str = Field(description="Bearer token for `Authorization: Bearer …`")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(
        description="Single-use: `POST /auth/refresh` exchanges it for a new pair (刷新令牌)"
    )
    refresh_expires_in: int = Field(
        description="Seconds the refresh token stays usable if not used before"
    )


class RefreshIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"refresh_token": "q3Jx0m4o2Yb6cWw1v9kT-7b2Lr8sZc5fHhXy3nVd0aE"}]
        }
    )

    refresh_token: str = Field(
        min_length=1, max_length=200, description="the latest refresh token (刷新令牌); single-use"
    )


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"current_password": "demo-password", "new_password": "a-longer-passphrase"}
            ]
        }
    )

    # Text: NUL refused by the model (and so declared), as a login refuses it.
    current_password: Text = Field(min_length=1, max_length=200, description="当前密码")
    new_password: Text = Field(min_length=1, max_length=200, description="新密码, 8+ characters")


class WechatLoginIn(BaseModel):
    """`wx.login`'s code; on the first sign-in of a WeChat user, the account's username and
    password as well, which binds the WeChat user (openid) to that account."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "0a3Xk7000Ab1cD2eF3gH4iJ5kL6mN7oP"},
                {
                    "code": "0c1Yz9000Qr2sT3uV4wX5yZ6aB7cD8eF",
                    "username": "demo-member-1",
                    "password": "demo-password",
                },
            ]
        }
    )

    code: str = Field(min_length=1, max_length=128, description="wx.login 返回的 code")
    username: Credential | None = Field(
        default=None, max_length=64, description="Only to bind: the account's username"
    )
    password: Credential | None = Field(
        default=None, max_length=200, description="Only to bind: the account's password"
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> WechatLoginIn:
        if (self.username is None) != (self.password is None):
            raise ValueError("send username and password together, or neither")
        return self


class Me(BaseModel):
    """The signed-in account (当前用户)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "username": "demo-member-1",
                    "full_name": "李明",
                    "role": "member",
                    "scope": "",
                    "member_id": 3,
                }
            ]
        }
    )

    id: int = Field(description="the account's id")
    username: str = Field(description="sign-in name (用户名)")
    full_name: str = Field(description="name (姓名)")
    role: Role = Field(
        description="member (队员), township (乡镇党委), county (县区组织部门), city (市委组织部), "
        "unit (派驻单位), auditor (督查审计), admin, sysadmin (系统管理员), security_admin "
        "(安全管理员), audit_admin (审计管理员); later versions may add roles"
    )
    scope: str = Field(
        description="division-code prefix seen (township 9 digits, county 6, city 4), "
        "or the unit's name for role unit; empty for admin"
    )
    member_id: int | None = Field(description="the roster member (队员) of a member account")


class UserOut(Me):
    """An account as an admin sees it."""

    is_active: bool = Field(description="false once deactivated (停用): it cannot sign in")
    created_at: UtcDateTime
