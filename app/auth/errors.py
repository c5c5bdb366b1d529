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


class InvalidRefreshToken(AppError):
    status = 401
    code = "invalid_refresh_token"
    title_zh = "刷新令牌无效"
    title_en = "Invalid refresh token"
    detail_zh = "刷新令牌无效、已过期、已被使用或会话已注销，请重新登录。"
    detail_en = "The refresh token is unknown, expired, already used or its session ended; log in."


class WrongPassword(AppError):
    status = 403
    code = "wrong_password"
    title_zh = "当前密码不正确"
    title_en = "The current password is wrong"


class WeakPassword(AppError):
    status = 422
    code = "weak_password"
    title_zh = "新密码不符合要求"
    title_en = "The new password is too weak"
    detail_zh = "密码至少 {min_length} 个字符，且不能与当前密码相同。"
    detail_en = "A password has at least {min_length} characters and differs from the current one."


class UserNotFound(AppError):
    status = 404
    code = "user_not_found"
    title_zh = "用户不存在"
    title_en = "No such user"


class CannotDeactivateSelf(AppError):
    status = 409
    code = "cannot_deactivate_self"
    title_zh = "不能停用自己的账号"
    title_en = "You cannot deactivate your own account"


class WechatDisabled(AppError):
    status = 503
    code = "wechat_disabled"
    title_zh = "未启用微信登录"
    title_en = "WeChat sign-in is not configured"
    detail_zh = "本部署未配置微信小程序（ZHUCUN_WECHAT_APPID）。"
    detail_en = "This deployment has no WeChat mini-program configured (ZHUCUN_WECHAT_APPID)."


class WechatCodeInvalid(AppError):
    status = 401
    code = "wechat_code_invalid"
    title_zh = "微信登录凭证无效"
    title_en = "Invalid WeChat login code"
    detail_zh = "wx.login 的 code 无效或已被使用（每个 code 只能用一次），请重新调用 wx.login。"
    detail_en = "The wx.login code is invalid or was used already (each works once); call again."


class WechatUnavailable(AppError):
    status = 502
    code = "wechat_unavailable"
    title_zh = "微信服务暂不可用"
    title_en = "WeChat did not answer"
    detail_zh = "微信 code2session 接口未能完成：{reason}"
    detail_en = "WeChat's code2session did not complete: {reason}"


class WechatNotBound(AppError):
    status = 401
    code = "wechat_not_bound"
    title_zh = "微信尚未绑定账号"
    title_en = "This WeChat user is not bound to an account"
    detail_zh = "首次使用微信登录：请重新调用 wx.login，并连同用户名和密码一起提交以绑定账号。"
    detail_en = (
        "First WeChat sign-in: call wx.login again and send the new code with your username "
        "and password to bind this WeChat user to your account."
    )


class WechatBoundElsewhere(AppError):
    status = 409
    code = "wechat_bound_elsewhere"
    title_zh = "微信绑定冲突"
    title_en = "WeChat binding conflict"
    detail_zh = "此微信已绑定其他账号，或此账号已绑定其他微信。"
    detail_en = "This WeChat user is bound to another account, or the account to another WeChat."


# --- 等保 level 3 (policy.security) --------------------------------------------------------


class AccountLocked(AppError):
    status = 423
    code = "account_locked"
    title_zh = "账号已锁定"
    title_en = "The account is locked"
    detail_zh = "连续登录失败次数过多，账号已锁定，请 {retry_after} 秒后再试或联系安全管理员解锁。"
    detail_en = (
        "Too many wrong passwords in a row locked the account; try again in {retry_after} "
        "seconds or ask a security administrator to unlock it."
    )

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class PasswordExpired(AppError):
    status = 403
    code = "password_expired"
    title_zh = "密码已过期"
    title_en = "The password has expired"
    detail_zh = "密码已超过最长使用期限，请先修改密码（POST /me/password）。"
    detail_en = "The password is older than the policy allows; change it first (POST /me/password)."


class SessionIdle(AppError):
    status = 401
    code = "session_idle"
    title_zh = "会话因长时间未操作已结束"
    title_en = "The session ended after being idle"
    detail_zh = "超过 {minutes} 分钟未操作，会话已结束，请重新登录。"
    detail_en = "No request for {minutes} minutes ended the session; sign in again."

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes=minutes)
        self.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'


class SecondFactorRequired(AppError):
    status = 401
    code = "second_factor_required"
    title_zh = "需要动态口令"
    title_en = "A second factor is required"
    detail_zh = "此账号需同时提交密码和动态口令（totp）。"
    detail_en = "This account signs in with its password and a TOTP code (`totp`)."


class InvalidSecondFactor(AppError):
    status = 401
    code = "invalid_second_factor"
    title_zh = "动态口令错误"
    title_en = "Wrong second factor"
    detail_zh = "动态口令错误、已过期或已被使用。"
    detail_en = "The TOTP code is wrong, expired or was used already."


class RejectedTotpCode(AppError):
    """A wrong code confirming an enrolment: the session stays (not a sign-in refusal)."""

    status = 422
    code = "invalid_second_factor"
    title_zh = "动态口令错误"
    title_en = "Wrong second factor"
    detail_zh = "动态口令错误或已过期，请用认证器应用中当前显示的 6 位数字。"
    detail_en = "The TOTP code is wrong or expired; send the 6 digits the app shows now."


class SecondFactorEnrolmentRequired(AppError):
    status = 403
    code = "second_factor_enrolment_required"
    title_zh = "请先绑定动态口令"
    title_en = "Enrol a second factor first"
    detail_zh = "此角色须使用动态口令：先 POST /me/totp，再 POST /me/totp/confirm。"
    detail_en = "This role needs a TOTP second factor: POST /me/totp, then POST /me/totp/confirm."


class SecondFactorEnrolled(AppError):
    status = 409
    code = "second_factor_enrolled"
    title_zh = "已绑定动态口令"
    title_en = "A second factor is enrolled already"
    detail_zh = "此账号已绑定动态口令；如需更换，请联系安全管理员重置。"
    detail_en = "This account has a confirmed TOTP factor; a security administrator resets it."


class PasswordRejected(AppError):
    """A new password the security policy refuses (complexity or history)."""

    status = 422
    code = "weak_password"
    title_zh = "新密码不符合要求"
    title_en = "The new password is too weak"
    detail_zh = "{reason_zh}"
    detail_en = "{reason_en}"
