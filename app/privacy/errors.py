"""Refusals of the privacy domain."""

from app.core.errors import AppError, NotFound


class NoticeVersionMismatch(AppError):
    status = 409
    code = "notice_version_mismatch"
    title_zh = "告知书版本不符"
    title_en = "Not the current notice"
    detail_zh = "只能确认当前版本的个人信息处理告知书（{current}），收到 {version}。"
    detail_en = "Only the current notice ({current}) can be acknowledged; got {version}."


class FeedbackNotFound(NotFound):
    code = "feedback_not_found"
    title_zh = "投诉建议不存在"
    title_en = "Feedback not found"
    detail_zh = "没有编号为 {feedback_id} 的投诉建议，或不在您的管辖范围内。"
    detail_en = "No feedback {feedback_id} in your scope."


class FeedbackAnswered(AppError):
    status = 409
    code = "feedback_already_answered"
    title_zh = "已答复"
    title_en = "Already answered"
    detail_zh = "投诉建议 {feedback_id} 已经答复过。"
    detail_en = "Feedback {feedback_id} has been answered already."


class InvalidMonth(AppError):
    status = 422
    code = "invalid_month"
    title_zh = "月份无效"
    title_en = "Invalid month"
    detail_zh = "month 应为 YYYY-MM 且不晚于本月，收到 {month}。"
    detail_en = "month must be YYYY-MM and not after this month; got {month}."
