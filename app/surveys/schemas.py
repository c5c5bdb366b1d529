"""Request and response bodies of the surveys domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.inputs import DivisionPrefix, Instant, Text
from app.core.policy import QuestionKind
from app.core.time import UtcDateTime

MAX_QUESTIONS = 20
MAX_EXCLUDED = 1000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuestionIn(_In):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,15}$", description="e.g. q1")]
    text: Annotated[Text, Field(min_length=1, max_length=200)]
    kind: QuestionKind


class QuestionOut(BaseModel):
    id: str
    text: str
    kind: QuestionKind


class SurveyCreate(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scope": "430121",
                    "title": "2026 年第四季度驻村工作满意度测评",
                    "opens_at": "2026-12-01T08:00:00+08:00",
                    "closes_at": "2026-12-15T20:00:00+08:00",
                    "codes_per_village": 30,
                    "questions": None,
                }
            ]
        },
    )

    scope: Annotated[
        DivisionPrefix, Field(min_length=1, max_length=12, description="division prefix")
    ]
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    opens_at: Instant
    closes_at: Instant
    codes_per_village: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None, description="cards per village (default: policy.surveys.codes_per_village, 30)"
    )
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=MAX_QUESTIONS)] | None = (
        Field(None, description="null: the standard questions (policy.surveys.questions)")
    )


class SurveyOut(BaseModel):
    id: int
    scope: str
    title: str
    opens_at: UtcDateTime
    closes_at: UtcDateTime
    questions: list[QuestionOut]
    codes_per_village: int
    villages: int = Field(description="villages that got codes")
    answers: int
    status: Literal["scheduled", "open", "closed"]
    created_at: UtcDateTime


class SurveyPage(BaseModel):
    items: list[SurveyOut]
    next_cursor: str | None


class PublicSurveyOut(BaseModel):
    title: str
    village_name: str
    team: list[str] = Field(description="full names of the members serving the village")
    questions: list[QuestionOut]
    opens_at: UtcDateTime
    closes_at: UtcDateTime


AnswerValue = Annotated[int, Field(ge=1, le=5)] | Literal["unknown"]


class AnswerIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"answers": {"q1": 5, "q2": 4, "q3": 4, "q4": 5, "q5": "unknown"}, "comment": ""}
            ]
        },
    )

    answers: Annotated[
        dict[Annotated[str, Field(max_length=16)], AnswerValue],
        Field(max_length=MAX_QUESTIONS, description="every question's id: 1–5 or unknown"),
    ]
    comment: Annotated[Text, Field(max_length=1000)] = ""


class SurveyReceiptOut(BaseModel):
    receipt: str = Field(description="8 characters the household may keep")
    answer_id: int


class AnomalyOut(BaseModel):
    kind: Literal["identical_answers", "burst", "same_device", "off_hours"]
    answer_ids: list[int]
    detail: str


class ExclusionShown(BaseModel):
    answer_id: int
    reason: str
    excluded_at: UtcDateTime


class VillageResult(BaseModel):
    village_code: str
    village_name: str
    codes: int
    answers: int
    excluded: int = Field(description="answers an auditor left out of satisfaction_rate")
    excluded_answer_ids: list[int]
    satisfaction_rate: float | None
    satisfaction_rate_all: float | None = Field(description="with the excluded answers")
    known_rate: float | None
    anomalies: list[AnomalyOut]
    exclusions: list[ExclusionShown] = Field(
        description="the excluded answers with the auditor's reason (who: the actions log)"
    )


class MemberResult(BaseModel):
    member_id: int
    full_name: str
    village_codes: list[str] = Field(description="the villages served during the wave")
    answers: int
    satisfaction_rate: float | None
    satisfaction_rate_all: float | None
    known_rate: float | None


class ResultsOut(BaseModel):
    survey_id: int
    villages: list[VillageResult]
    members: list[MemberResult]


class ExclusionIn(_In):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"answer_ids": [101, 102, 103], "reason": "同一设备两分钟内作答 8 份，经核实为代答"}
            ]
        },
    )

    answer_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=2**31 - 1)]],
        Field(min_length=1, max_length=MAX_EXCLUDED),
    ]
    reason: Annotated[Text, Field(min_length=1, max_length=500)]


class ExclusionOut(BaseModel):
    survey_id: int
    excluded: list[int] = Field(description="answers excluded by this request")
    already_excluded: list[int] = Field(description="answers excluded before (kept as they were)")
    at: datetime
