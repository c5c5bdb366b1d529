"""Leave request and response bodies."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.inputs import Day, Text
from app.core.time import UtcDateTime

LeaveType = Literal["personal", "sick", "annual", "official", "recall"]
LeaveStatus = Literal["pending", "approved", "rejected", "cancelled", "returned"]


class LeaveCreate(BaseModel):
    type: LeaveType = Field(
        description="personal, sick, annual, official (公出: away on the unit's business), "
        "recall (the dispatching unit calls the member back)"
    )
    start_date: Day
    end_date: Day
    reason: Text = Field("", max_length=2000)
    emergency: bool = Field(False, description="allows a leave that started before today")


class LeaveDecision(BaseModel):
    comment: Text | None = Field(None, max_length=2000)


class LeaveReturn(BaseModel):
    returned_on: Day = Field(description="the first day back in the village, not a leave day")
    comment: Text | None = Field(None, max_length=2000)


class LeaveExtend(BaseModel):
    end_date: Day
    reason: Text = Field("", max_length=2000)
    emergency: bool = False


class LeaveCancel(BaseModel):
    comment: Text | None = Field(None, max_length=2000)


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
    approver_level: str
    filed_with: str | None
    decided_by: int | None
    decided_at: UtcDateTime | None
    decision_comment: str | None
    returned_on: date | None
    extends_id: int | None
    created_at: UtcDateTime
    history: list[LeaveTransitionOut] = Field(
        description="every transition, oldest first: who, when, from, to and the comment"
    )
