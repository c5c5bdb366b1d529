"""Refusals of the auth domain."""

from app.core.errors import AppError


class InvalidCredentials(AppError):
    status = 401
    code = "invalid_credentials"
    title_zh = "用户名或密码错误"
    title_en = "Invalid username or password"

    def __init__(self) -> None:
        super().__init__()
        self.headers["WWW-Authenticate"] = "Bearer"


class InvalidTokenError(AppError):
    status = 401
    code = "invalid_token"
    title_zh = "令牌无效或已过期"
    title_en = "Invalid or expired token"
    detail_zh = "访问令牌无效或已过期，请重新登录。"
    detail_en = "The access token is invalid or has expired; log in again."

    def __init__(self) -> None:
        super().__init__()
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class TooManyAttempts(AppError):
    status = 429
    code = "too_many_attempts"
    title_zh = "登录失败次数过多"
    title_en = "Too many failed logins"
    detail_zh = "登录失败次数过多，请在 {retry_after} 秒后再试。"
    detail_en = "Too many failed logins; try again in {retry_after} seconds."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class InvalidUser(AppError):
    status = 422
    code = "invalid_user"
    title_zh = "用户信息无效"
    title_en = "Invalid user"
    detail_zh = "{reason}"
    detail_en = "{reason}"


class RoleRequired(AppError):
    status = 403
    code = "role_required"
    title_zh = "角色无权执行此操作"
    title_en = "Your role may not do this"
    detail_zh = "此操作需要以下角色之一：{roles}。"
    detail_en = "This needs one of the roles: {roles}."
