"""Refusals of the surveys domain."""

from __future__ import annotations

from typing import Any

from app.core.errors import AppError, NotFound


class SurveyNotFound(NotFound):
    code = "survey_not_found"
    title_zh = "测评不存在"
    title_en = "Survey not found"
    detail_zh = "没有编号为 {survey_id} 的满意度测评，或不在您的管辖范围内。"
    detail_en = "No survey {survey_id} in your scope."


class CodeNotFound(NotFound):
    code = "code_not_found"
    title_zh = "测评码无效"
    title_en = "Unknown code"
    detail_zh = "没有这个测评码，请核对卡片上的 8 位码。"
    detail_en = "No such code: check the 8 characters on the card."


class AnswerNotFound(NotFound):
    code = "answer_not_found"
    title_zh = "答卷不存在"
    title_en = "Answer not found"
    detail_zh = "测评 {survey_id} 中没有答卷 {answer_ids}，或不在您的管辖范围内。"
    detail_en = "Survey {survey_id} has no answer(s) {answer_ids} in your scope."


class SurveyVillageNotFound(NotFound):
    code = "village_not_found"
    title_zh = "村不在测评范围内"
    title_en = "Village not in the survey"
    detail_zh = "测评 {survey_id} 没有为 {village_code} 制作测评码，或该村不在您的管辖范围内。"
    detail_en = "Survey {survey_id} has no codes for {village_code} in your scope."


class AlreadyAnswered(AppError):
    status = 409
    code = "already_answered"
    title_zh = "已经作答"
    title_en = "Already answered"
    detail_zh = "这个测评码已经用过，每张卡只能作答一次。"
    detail_en = "This code has been used: each card answers once."


class SurveyClosed(AppError):
    status = 410
    code = "survey_closed"
    title_zh = "不在测评时间内"
    title_en = "Survey not open"
    detail_zh = "本次测评的作答时间为 {opens_at} 至 {closes_at}。"
    detail_en = "This survey takes answers from {opens_at} to {closes_at}."


class TooManyAnswers(AppError):
    status = 429
    code = "too_many_answers"
    title_zh = "作答过于频繁"
    title_en = "Too many answers"
    detail_zh = "同一网络地址在 {minutes} 分钟内最多作答 {limit} 次，请 {retry_after} 秒后再试。"
    detail_en = (
        "At most {limit} answers per address in {minutes} minutes; retry in {retry_after} s."
    )

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.headers["Retry-After"] = str(params.get("retry_after", 60))


class InvalidAnswers(AppError):
    status = 422
    code = "invalid_answers"
    title_zh = "答案不完整或超出范围"
    title_en = "Invalid answers"
    detail_zh = "{reason}"
    detail_en = "{reason}"


class InvalidSurveyWindow(AppError):
    status = 422
    code = "invalid_survey_window"
    title_zh = "测评时间无效"
    title_en = "Invalid survey window"
    detail_zh = "截止时间须晚于开始时间和当前时间，且测评不超过 {max_days} 天。"
    detail_en = "closes_at must be after opens_at and now, within {max_days} days of opening."


class InvalidQuestions(AppError):
    status = 422
    code = "invalid_questions"
    title_zh = "题目无效"
    title_en = "Invalid questions"
    detail_zh = "{reason}"
    detail_en = "{reason}"


class NoVillages(AppError):
    status = 422
    code = "no_villages"
    title_zh = "范围内没有村"
    title_en = "No villages in scope"
    detail_zh = "范围 {scope} 内没有村，无法制作测评码。"
    detail_en = "No village lies under {scope}: there is nothing to make codes for."
