"""Presence ledger response bodies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.time import UtcDateTime

DayStatus = Literal["present", "partial", "leave", "absent", "pending", "unassigned"]


class CalendarSource(BaseModel):
    source: Literal["official", "fallback"] = Field(
        description="official: the Chinese holiday calendar with its make-up working days; "
        "fallback: Monday-Friday plus the policy's own holidays and workdays"
    )
    fallback_years: list[int] = Field(description="years the holiday calendar does not cover")


class PresenceDayOut(BaseModel):
    date: Annotated[date, Field(description="the local date")]
    status: DayStatus = Field(
        description="present (在村, the day rule is met), partial (some counted fixes), leave "
        "(请假), absent (缺勤), pending (today or later), unassigned; later versions may add"
    )
    workday: bool = Field(description="a working day (工作日) by the holiday calendar")
    counted_checkins: int = Field(description="check-ins that count toward the day")
    first_counted_at: UtcDateTime | None = Field(description="the first counted check-in")
    last_counted_at: UtcDateTime | None = Field(description="the last counted check-in")
    leave_id: int | None = Field(description="the approved leave covering the day")
    village_code: str | None = Field(description="the assigned village that day")
    violation: Literal["leave_overstay"] | None = Field(
        description="leave_overstay: away after the leave ended without returning (超假)"
    )


class OverstayOut(BaseModel):
    leave_id: int
    start: date
    end: date


class PresenceOut(BaseModel):
    """A member's presence ledger (驻村考勤台账), one entry per local day."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "member_id": 3,
                    "days": [
                        {
                            "date": "2026-11-27",
                            "status": "present",
                            "workday": True,
                            "counted_checkins": 2,
                            "first_counted_at": "2026-11-27T00:40:00Z",
                            "last_counted_at": "2026-11-27T09:10:00Z",
                            "leave_id": None,
                            "village_code": "430121001001",
                            "violation": None,
                        }
                    ],
                    "overstays": [],
                    "calendar": {"source": "official", "fallback_years": []},
                }
            ]
        }
    )

    member_id: int = Field(description="the member (队员)")
    days: list[PresenceDayOut] = Field(description="one per day of the range, oldest first")
    overstays: list[OverstayOut] = Field(description="leave overstayed (超假) in the range")
    calendar: CalendarSource = Field(description="which working-day calendar was used")


class OnPostRow(BaseModel):
    code: str
    name: str | None = None
    assigned: int = Field(description="members assigned that day")
    present: int = Field(description="members whose day is credited")
    on_leave: int = Field(description="members on approved leave (not present)")
    on_post_rate: float | None = Field(description="present / assigned")
    on_post_rate_excluding_leave: float | None = Field(
        description="present / (assigned - on_leave)"
    )


class OnPostOut(BaseModel):
    date: date
    scope: str
    total: OnPostRow
    counties: list[OnPostRow]
    townships: list[OnPostRow]
    villages: list[OnPostRow]
