"""Compliance response bodies (API.md "Compliance and supervision" and its additions)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ledger.schemas import CalendarSource

StatusOut = Literal["met", "on_track", "at_risk", "unattainable", "missed"]


class RuleOut(BaseModel):
    period: Literal["month", "quarter", "year"]
    days: int
    official_counts: bool


class ViolationOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str = Field(
        description="absent_without_leave, absent_run, short_visits, rotation, leave_overstay, "
        "suspicious_checkins; more may come (missed_roll_call, inspection_discrepancy, "
        "late_event_report, households_overdue, visit_denied, unknown_to_household)"
    )
    date: dt.date | None
    from_: dt.date | None = Field(alias="from", serialization_alias="from")
    to: dt.date | None
    detail: str


class MemberComplianceOut(BaseModel):
    member_id: int
    period: str
    quarter: str | None = Field(description="the quarter when the period is one")
    period_start: dt.date
    period_end: dt.date
    rule: RuleOut
    required_days: int = Field(description="pro-rated by assigned calendar days, rounded up")
    pro_rated: bool = Field(description="assigned for only part of the period")
    present_days: int = Field(description="days the day rule credited (any day of the week)")
    official_days: int = Field(description="working days of official business (公出)")
    credited_days: int = Field(
        description="present_days, plus official_days when the rule counts them"
    )
    needed_days: int = Field(description="days still needed, ≥ 0")
    leave_days: int = Field(description="working days on approved leave (not present)")
    absent_workdays: int = Field(description="past working days with neither presence nor leave")
    short_days: int = Field(description="past days with counted fixes that never made a day")
    remaining_days: int = Field(description="assigned days from today to the period's end")
    status: StatusOut
    violations: list[ViolationOut]
    calendar: CalendarSource


class MemberRulesOut(BaseModel):
    member_id: int
    period: str
    status: StatusOut = Field(description="the worst of the results")
    met: bool = Field(description="every rule met in every one of its periods")
    items: list[MemberComplianceOut]


class ComplianceRow(BaseModel):
    member_id: int
    full_name: str
    unit: str
    village_code: str | None
    status: StatusOut
    required_days: int
    present_days: int
    needed_days: int
    absent_workdays: int = Field(
        description="past working days absent (neither present nor on leave)"
    )
    violations: dict[str, int] = Field(
        description="entries by code: absent_without_leave counts runs of absence, not days"
    )


class ComplianceListOut(BaseModel):
    period: str
    quarter: str | None
    summary: dict[str, int] = Field(description="members by status over the whole scope")
    items: list[ComplianceRow]
    next_cursor: str | None


class RollCallsOut(BaseModel):
    issued: int
    answered: int


class EventsOut(BaseModel):
    reported: int
    late: int


class RectificationsOut(BaseModel):
    opened: int
    closed: int
    overdue: int


class AnnualHouseholdsOut(BaseModel):
    paired: int = Field(description="households paired with the member in the year")
    visited_on_time_rate: float | None = Field(
        description="入户率: the share of them never overdue during the member's pairing days"
    )
    confirmed_rate: float | None = Field(
        description="the share of credited visits a countersign or call-back confirmed"
    )
    known_rate: float | None = Field(description="the share of answers that know the member")
    answers: int = Field(description="countersigns and reached call-backs")
    satisfaction_rate: float | None = Field(description="the share of 4–5 among 1–5 answers")


class VoiceSourceOut(BaseModel):
    source: str = Field(description="surveys (满意度测评); later countersigns, callbacks")
    answers: int = Field(description="answers received, excluded ones included")
    satisfaction_answers: int = Field(
        description="answers to satisfaction questions that were not 不清楚, exclusions left out"
    )
    satisfied: int = Field(description="of them, 4–5")
    satisfaction_rate: float | None
    known_answers: int
    known: int
    known_rate: float | None


class AnnualRatesOut(BaseModel):
    residence: float | None = Field(description="住村率: credited ÷ required days, capped at 1")
    visits: float | None = Field(description="入户率: households.visited_on_time_rate")
    satisfaction: float | None = Field(
        description="满意度: satisfied ÷ satisfaction answers, pooled over every source in `voice`"
    )
    known: float | None = Field(description="认识度: the same for the `known` question")


class AnnualOut(BaseModel):
    member_id: int
    year: int
    quarters: list[MemberComplianceOut] = Field(
        description="each quarter against the quarter rule (empty without one)"
    )
    periods: list[MemberComplianceOut] = Field(
        description="every configured rule over each of its periods in the year"
    )
    leave_days: int = Field(description="working days on approved leave in the year")
    violations: list[ViolationOut]
    roll_calls: RollCallsOut = Field(description="roll calls that called the member (点名)")
    events: EventsOut = Field(description="major events the member reported (大事报告)")
    rectifications: RectificationsOut = Field(
        description="rectifications opened for the member that year (整改); closed and overdue "
        "count among them, overdue as of today"
    )
    households: AnnualHouseholdsOut
    rates: AnnualRatesOut = Field(description="the four rates; null where there is nothing to rate")
    grade_hint: Literal["excellent_eligible", "ordinary", "referral"] = Field(
        description="from policy.evaluation: excellent_eligible when every rate is at or above "
        "excellent_min_rate, referral when any is below referral_below_rate. A hint; people grade"
    )
    voice: list[VoiceSourceOut] = Field(
        description="what villagers said, each source counted apart (the rates pool them)"
    )
