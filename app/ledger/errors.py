"""Refusals of the ledger domain."""

from app.core.errors import AppError


class InvalidPeriod(AppError):
    status = 422
    code = "invalid_range"
    title_zh = "日期范围无效"
    title_en = "Invalid date range"
    detail_zh = "to 不得早于 from，且跨度不超过 {max_days} 天。"
    detail_en = "`to` may not be before `from`, and the period is at most {max_days} days."
