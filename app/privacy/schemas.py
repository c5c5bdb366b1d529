"""Request and response bodies of the privacy domain."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.checkins.schemas import CheckInOut
from app.core.inputs import Text
from app.core.time import UtcDateTime

FeedbackKind = Literal["complaint", "suggestion", "burden", "data_correction"]


class AccessEntryOut(BaseModel):
    """One read of a member's positions (or a household's phone) by someone else."""

    seq: int
    at: UtcDateTime
    viewer_id: int = Field(description="the user who read")
    viewer_role: str
    subject_member_id: int | None = Field(description="whose positions were read")
    household_id: int | None = Field(description="whose phone number was read")
    what: str = Field(description="e.g. checkins.list, checkin.review, household.phone")
    prev_hash: str
    hash: str


class NoticeOut(BaseModel):
    """The privacy notice (个人信息处理告知书), current version."""

    version: str
    text: str = Field(description="zh-CN, or en by Accept-Language")
    basis: str = Field(description="the legal basis: PIPL Art. 13 duties, not consent")
    data: list[str] = Field(description="what is kept")
    retention: list[str] = Field(description="for how long")
    contact: str = Field(description="whom to contact")


class NoticeAckIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"version": "2026-12"}]}
    )

    version: str = Field(max_length=16, description="the version read (GET /privacy/notice)")


class NoticeAckOut(BaseModel):
    notice_version: str
    acknowledged_at: UtcDateTime


class About(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=32, pattern=r"^[a-z_]{1,32}$", description="e.g. checkin")
    id: str = Field(max_length=64, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "burden", "text": "每周要填三张表，能否合并？"}]},
    )

    kind: FeedbackKind
    text: Text = Field(min_length=1, max_length=2000)
    about: About | None = None


class FeedbackReplyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "已合并为一张月报表。"}]}
    )

    text: Text = Field(min_length=1, max_length=2000)


class FeedbackOut(BaseModel):
    """A complaint or suggestion (投诉建议) and its answer."""

    id: int
    user_id: int
    kind: FeedbackKind
    text: str
    about: About | None
    division_code: str = Field(description="where it comes from ('' for no division)")
    status: Literal["open", "answered"]
    created_at: UtcDateTime
    due_date: date = Field(description="answer by: `policy.feedback.reply_workdays` working days")
    overdue: bool = Field(description="still open after due_date")
    reply: str | None
    replied_by: int | None
    replied_at: UtcDateTime | None


class BurdenRow(BaseModel):
    """One member's month (减负: what the system asked of them)."""

    member_id: int
    full_name: str
    village_code: str | None
    checkins: int = Field(description="check-ins sent (captured in the month)")
    visits: int = Field(description="household visits recorded (0 until households exist)")
    roll_calls: int = Field(description="roll calls the member was called to")
    roll_calls_answered: int
    forms: int = Field(description="leave requests, event reports and feedback filed")
    action_days: int = Field(description="days with at least one of the above")
    present_days: int
    actions_per_present_day: float | None


class BurdenReport(BaseModel):
    month: str
    scope: str
    items: list[BurdenRow]


class _Held(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class HeldAssignment(_Held):
    id: int
    village_code: str
    start_date: date
    end_date: date | None


class HeldMember(_Held):
    user_id: int
    username: str
    id: int | None = Field(None, description="the roster member; null for other accounts")
    full_name: str | None = None
    position: str | None = None
    unit_id: int | None = None
    created_at: UtcDateTime | None = None
    assignments: list[HeldAssignment] = Field(default_factory=list)


class HeldDay(_Held):
    day: date
    counted_checkins: int
    first_counted_at: UtcDateTime | None
    last_counted_at: UtcDateTime | None
    present: bool
    leave_id: int | None


class HeldLeave(_Held):
    id: int
    type: str
    start_date: date
    end_date: date
    days: int
    reason: str
    emergency: bool
    status: str
    approver_level: str
    decided_at: UtcDateTime | None
    decision_comment: str | None
    returned_on: date | None
    extends_id: int | None
    created_at: UtcDateTime


class HeldEvent(_Held):
    id: int
    village_code: str
    kind: str
    occurred_at: UtcDateTime
    summary: str
    reported_at: UtcDateTime
    acknowledged_at: UtcDateTime | None
    ack_comment: str | None


class HeldRollCall(_Held):
    roll_call_id: int
    village_code: str
    message: str
    issued_at: UtcDateTime
    deadline: UtcDateTime


class MyExport(BaseModel):
    """Everything held about the member (GET /me/export)."""

    generated_at: UtcDateTime
    member: HeldMember
    notice_version: str | None
    checkins: list[CheckInOut]
    ledger: list[HeldDay]
    leave: list[HeldLeave]
    events: list[HeldEvent]
    roll_calls: list[HeldRollCall]
    feedback: list[FeedbackOut]
    access_log: list[AccessEntryOut]
