"""Request and response bodies of supervision (API.md "Compliance and supervision")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.inputs import Day, DivisionPrefix, Instant, Text
from app.core.time import UtcDateTime

MemberId = Annotated[int, Field(ge=1, le=2**31 - 1)]
EventKind = Literal["petition", "safety", "dispute", "other"]
LevelName = Literal["township", "county", "city"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------------- roll calls


class RollCallCreate(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scope": "430121",
                    "window_minutes": 30,
                    "message": "请在 30 分钟内于村内打卡 (check in from the village)",
                }
            ]
        }
    )

    scope: Annotated[
        DivisionPrefix, Field(min_length=1, max_length=12, description="division prefix")
    ]
    # Validated against the policy (422 invalid_window), so the model only keeps it storable;
    # the schema says the widest bounds any policy allows.
    window_minutes: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] = Field(
        description="how long members have to answer (policy bounds; at most a day)",
        json_schema_extra={"minimum": 1, "maximum": 1440},
    )
    message: Annotated[Text, Field(max_length=500)] = ""


class RollCallIssued(BaseModel):
    id: int
    scope: str
    message: str
    window_minutes: int
    issued_at: UtcDateTime
    deadline: UtcDateTime
    issued_by: int
    called: int = Field(description="members called (assigned under the scope that day)")


class RollCallEntry(BaseModel):
    member_id: int
    full_name: str
    village_code: str
    checkin_id: int | None
    reason: str | None = Field(
        description="rejected: late, outside, mock, at_home_unit (from the dispatching unit's "
        "office) or voided"
    )


class RollCallCounts(BaseModel):
    called: int
    responded: int
    excused: int
    rejected: int
    missing: int


class RollCallHead(BaseModel):
    id: int
    scope: str
    message: str
    issued_at: UtcDateTime
    deadline: UtcDateTime
    issued_by: int
    open: bool = Field(description="the window has not closed yet")
    counts: RollCallCounts


class RollCallOut(RollCallHead):
    responded: list[RollCallEntry]
    excused: list[RollCallEntry]
    rejected: list[RollCallEntry]
    missing: list[RollCallEntry]


class RollCallSummary(BaseModel):
    id: int
    scope: str
    message: str
    issued_at: UtcDateTime
    deadline: UtcDateTime
    issued_by: int


class MyRollCall(BaseModel):
    id: int
    message: str
    issued_at: UtcDateTime
    deadline: UtcDateTime
    answered: bool = Field(description="a good answer is stored already")


# -------------------------------------------------------------------------------- inspections


class InspectionCreate(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "village_code": "430121001001",
                    "visited_at": "2026-11-20T10:00:00+08:00",
                    "found_present": [12],
                    "found_absent": [7],
                    "note": "突击暗访：第一书记不在岗 (first secretary absent)",
                }
            ]
        }
    )

    village_code: Annotated[str, Field(pattern=r"^\d{12}$")]
    visited_at: Instant
    found_present: Annotated[list[MemberId], Field(max_length=200)] = []
    found_absent: Annotated[list[MemberId], Field(max_length=200)] = []
    note: Annotated[Text, Field(max_length=5000)] = ""


class Discrepancy(BaseModel):
    member_id: int
    full_name: str
    checkin_ids: list[int] = Field(description="counted fixes within the window of the visit")
    detail: str


class PresentWithoutFix(BaseModel):
    member_id: int
    full_name: str


class InspectionOut(BaseModel):
    id: int
    village_code: str
    visited_at: UtcDateTime
    found_present: list[int]
    found_absent: list[int]
    note: str
    recorded_by: int
    recorded_at: UtcDateTime
    discrepancies: list[Discrepancy] = Field(
        description="found absent, yet with counted fixes near the visit (computed when read)"
    )
    present_without_fix: list[PresentWithoutFix] = Field(
        description="found present, yet with no fix that day (noted, computed when read)"
    )


class InspectionSummary(BaseModel):
    id: int
    village_code: str
    visited_at: UtcDateTime
    recorded_by: int
    recorded_at: UtcDateTime


# ------------------------------------------------------------------------------------- events


class EventCreate(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "petition",
                    "occurred_at": "2026-11-20T09:00:00+08:00",
                    "summary": "村民集体上访反映土地流转问题 (a petition over land)",
                    "village_code": "430121001001",
                }
            ]
        }
    )

    kind: EventKind
    occurred_at: Instant
    summary: Annotated[Text, Field(min_length=1, max_length=5000)]
    village_code: Annotated[str, Field(pattern=r"^\d{12}$")]


class EventAck(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"comment": "已知悉，乡镇派员处理 (acknowledged; the township is sending someone)"}
            ]
        }
    )

    comment: Annotated[Text, Field(max_length=2000)] | None = None


class EventOut(BaseModel):
    id: int
    member_id: int
    village_code: str
    kind: EventKind
    occurred_at: UtcDateTime
    summary: str
    reported_at: UtcDateTime
    reported_by: int
    acknowledged_at: UtcDateTime | None
    acknowledged_by: int | None
    ack_comment: str | None
    ack_due: UtcDateTime = Field(description="unacknowledged after this, it is overdue")
    overdue: bool
    late: bool = Field(description="reported long after it occurred (policy hours)")


# ----------------------------------------------------------------------------- rectifications


class ViolationSource(_In):
    kind: Literal["violation"]
    code: Annotated[str, Field(max_length=32)]
    period: Annotated[str, Field(max_length=8)]


class InspectionSource(_In):
    kind: Literal["inspection"]
    inspection_id: Annotated[int, Field(ge=1, le=2**31 - 1)]


class ManualSource(_In):
    kind: Literal["manual"]


Source = Annotated[ViolationSource | InspectionSource | ManualSource, Field(discriminator="kind")]


class RectificationCreate(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": 7,
                    "source": {"kind": "inspection", "inspection_id": 3},
                    "requirement": "12 月底前在岗不少于 20 天 (20 days on post)",
                    "due_date": "2026-12-31",
                }
            ]
        }
    )

    member_id: MemberId
    source: Source
    requirement: Annotated[Text, Field(min_length=1, max_length=5000)]
    due_date: Day


class RectificationClose(_In):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"evidence": "已整改：12 月在村 22 天 (22 days in the village in December)"}
            ]
        }
    )

    evidence: Annotated[Text, Field(min_length=1, max_length=10000)]


class TransitionOut(BaseModel):
    at: UtcDateTime
    actor_id: int
    actor_level: str
    from_status: str | None
    to_status: str
    note: str | None


class PresenceSince(BaseModel):
    """The member's ledger from the day the item was opened to the day it was closed (or
    today), computed from the ledger, never typed."""

    start: date
    end: date
    days: dict[str, int] = Field(description="days by ledger status")


class RectificationOut(BaseModel):
    id: int
    member_id: int
    full_name: str
    unit: str
    village_code: str | None
    source: ViolationSource | InspectionSource | ManualSource
    requirement: str
    due_date: date
    status: Literal["open", "closed"]
    overdue: bool
    opened_by: int
    opened_level: LevelName
    opened_at: UtcDateTime
    closed_by: int | None
    closed_level: LevelName | None
    closed_at: UtcDateTime | None
    evidence: str | None
    presence: PresenceSince | None = Field(
        None, description="presence since it was opened (single-item answers)"
    )
    history: list[TransitionOut]
