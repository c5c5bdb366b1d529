"""Leave request and response bodies."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.inputs import Day, Text
from app.core.time import UtcDateTime
from app.leave.models import LeaveStatus, LeaveType

# Who approves (审批层级) and who is told (备案), from the policy's tiers.
ApproverLevel = Literal["township", "county", "city"]
FiledWith = Literal["county", "city"]


class LeaveCreate(BaseModel):
    """A request for leave (请假)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "personal",
                    "start_date": "2026-12-03",
                    "end_date": "2026-12-04",
                    "reason": "家中老人住院 (a parent in hospital)",
                    "emergency": False,
                }
            ]
        }
    )

    type: LeaveType = Field(
        description="personal, sick, annual, official (公出: away on the unit's business), "
        "recall (the dispatching unit calls the member back)"
    )
    start_date: Day = Field(description="first day away (local date)")
    end_date: Day = Field(description="last day away, included")
    reason: Text = Field("", max_length=2000, description="reason (事由)")
    emergency: bool = Field(False, description="allows a leave that started before today (紧急)")


class LeaveDecision(BaseModel):
    """An approver's decision (审批意见)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"comment": "同意 (approved)"}]})

    comment: Text | None = Field(None, max_length=2000, description="the approver's comment")


class LeaveReturn(BaseModel):
    """Reporting back from leave (销假)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"returned_on": "2026-12-05", "comment": "已返岗"}]}
    )

    returned_on: Day = Field(description="the first day back in the village, not a leave day")
    comment: Text | None = Field(None, max_length=2000, description="a note")


class LeaveExtend(BaseModel):
    """Extending a leave (续假): approved at the level the new total length needs."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"end_date": "2026-12-06", "reason": "病情未愈 (still unwell)", "emergency": False}
            ]
        }
    )

    end_date: Day = Field(description="the new last day away")
    reason: Text = Field("", max_length=2000, description="reason (事由)")
    emergency: bool = Field(False, description="allows an extension that starts before today")


class LeaveCancel(BaseModel):
    """Withdrawing a leave request (撤销)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"comment": "行程取消"}]})

    comment: Text | None = Field(None, max_length=2000, description="a note")


class LeaveTransitionOut(BaseModel):
    at: UtcDateTime
    actor_id: int | None
    actor: str | None = Field(description="the acting user's username")
    from_status: LeaveStatus | None
    to_status: LeaveStatus
    comment: str | None


class LeaveRequestOut(BaseModel):
    id: int
    member_id: int
    type: LeaveType
    start_date: date
    end_date: date
    days: int
    reason: str
    emergency: bool
    status: LeaveStatus
    approver_level: ApproverLevel = Field(
        description="who approves: township (乡镇党委, up to 3 days by default), county "
        "(县区组织部门) or city; later versions may add levels"
    )
    filed_with: FiledWith | None = Field(
        description="who the leave is filed with (备案), e.g. city (市委组织部) for long leave"
    )
    decided_by: int | None
    decided_at: UtcDateTime | None
    decision_comment: str | None
    returned_on: date | None
    extends_id: int | None
    created_at: UtcDateTime
    history: list[LeaveTransitionOut] = Field(
        description="every transition, oldest first: who, when, from, to and the comment"
    )
