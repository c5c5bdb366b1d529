"""Refusals of the reports domain."""

from app.core.errors import AppError


class PeriodInFuture(AppError):
    status = 422
    code = "period_in_future"
    title_zh = "时段在未来"
    title_en = "Period in the future"
    detail_zh = "报表时段不能从今天（{today}）之后开始。"
    detail_en = "A report's period may not start after today ({today})."
