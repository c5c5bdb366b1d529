"""Refusals of the households domain."""

from __future__ import annotations

from typing import Any

from app.core.errors import AppError, NotFound
from app.core.i18n import Language


class HouseholdNotFound(NotFound):
    code = "household_not_found"
    title_zh = "农户不存在"
    title_en = "Household not found"
    detail_zh = "没有编号为 {household_id} 的农户，或不在您的管辖范围内、未与您结对。"
    detail_en = "No household {household_id} in your scope or paired with you."


class CountersignNotFound(NotFound):
    code = "countersign_not_found"
    title_zh = "确认链接无效"
    title_en = "Countersign not found"
    detail_zh = "链接或确认码无效。"
    detail_en = "No visit waits for this link or code."


class CallbackNotFound(NotFound):
    code = "callback_not_found"
    title_zh = "回访不存在"
    title_en = "Call-back not found"
    detail_zh = "没有编号为 {callback_id} 的回访，或不在您的管辖范围内。"
    detail_en = "No call-back {callback_id} in your scope."


class AlreadyAnswered(AppError):
    status = 409
    code = "already_answered"
    title_zh = "已经回答过"
    title_en = "Already answered"
    detail_zh = "这次走访已经确认过（或这次回访已经记录过），不能再次回答。"
    detail_en = "This has been answered already; an answer is given once."


class Expired(AppError):
    status = 410
    code = "expired"
    title_zh = "链接已过期"
    title_en = "Expired"
    detail_zh = "确认链接已于 {expires_at} 过期。"
    detail_en = "The link expired at {expires_at}."


class TooManyCodes(AppError):
    status = 429
    code = "too_many_attempts"
    title_zh = "尝试次数过多"
    title_en = "Too many attempts"
    detail_zh = "确认码错误次数过多，请在 {retry_after} 秒后再试。"
    detail_en = "Too many wrong codes; try again in {retry_after} seconds."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.headers["Retry-After"] = str(retry_after)


class ImportRefused(AppError):
    status = 422
    code = "import_refused"
    title_zh = "导入被拒绝"
    title_en = "Import refused"
    detail_zh = "{count} 行有误，未导入任何数据。"
    detail_en = "{count} line(s) refused; nothing was imported."

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__(count=len({line for line, _ in problems}))
        self.problems = problems

    def extra_for(self, lang: Language) -> dict[str, Any]:
        return {"problems": [{"line": line, "reason": reason} for line, reason in self.problems]}

    def extra(self) -> dict[str, Any]:
        return self.extra_for("en")


class InvalidPairing(AppError):
    status = 422
    code = "invalid_pairing"
    title_zh = "结对无效"
    title_en = "Invalid pairing"
    detail_zh = "{reason}"
    detail_en = "{reason}"


class NotPairedMember(AppError):
    status = 403
    code = "not_paired_member"
    title_zh = "不是该户的帮扶责任人"
    title_en = "Not the paired member"
    detail_zh = "只有该户的帮扶责任人或乡镇及以上用户可以修改帮扶计划。"
    detail_en = "Only the household's paired member or township-and-up users may change its plan."
