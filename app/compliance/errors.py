"""Refusals of the compliance domain."""

from app.core.errors import AppError, NotFound


class InvalidPeriod(AppError):
    status = 422
    code = "invalid_period"
    title_zh = "考核周期无效"
    title_en = "Invalid period"
    detail_zh = "周期 {period} 无效：应为已配置定额规则的周期（{allowed}）。"
    detail_en = (
        "Period {period} is not valid: give the period of a configured quota rule ({allowed})."
    )


class ScopeNotFound(NotFound):
    code = "scope_not_found"
    title_zh = "范围不存在"
    title_en = "Scope not found"
    detail_zh = "范围 {scope} 不在您的管辖范围内。"
    detail_en = "Scope {scope} is not within yours."
