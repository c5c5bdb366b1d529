"""Auth request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.core.time import UtcDateTime


class Token(BaseModel):
    """A signed-in session's tokens (登录令牌)."""

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
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=200, description="当前密码")
    new_password: str = Field(min_length=1, max_length=200, description="新密码, 8+ characters")


class WechatLoginIn(BaseModel):
    """`wx.login`'s code; on the first sign-in of a WeChat user, the account's username and
    password as well, which binds the WeChat user (openid) to that account."""

    code: str = Field(min_length=1, max_length=128, description="wx.login 返回的 code")
    username: str | None = Field(
        default=None, max_length=64, description="Only to bind: the account's username"
    )
    password: str | None = Field(
        default=None, max_length=200, description="Only to bind: the account's password"
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> WechatLoginIn:
        if (self.username is None) != (self.password is None):
            raise ValueError("send username and password together, or neither")
        return self


class Me(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    scope: str
    member_id: int | None


class UserOut(Me):
    """An account as an admin sees it."""

    is_active: bool
    created_at: UtcDateTime
