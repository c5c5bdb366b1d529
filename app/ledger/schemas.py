"""Presence ledger response bodies."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.time import UtcDateTime

DayStatus = Literal["present", "partial", "leave", "absent", "pending", "unassigned"]


class CalendarSource(BaseModel):
    source: Literal["official", "fallback"] = Field(
        description="official: the Chinese holiday calendar with its make-up working days; "
        "fallback: Monday-Friday plus the policy's own holidays and workdays"
    )
    fallback_years: list[int] = Field(description="years the holiday calendar does not cover")


class PresenceDayOut(BaseModel):
    date: date
    status: DayStatus
    workday: bool
    counted_checkins: int
    first_counted_at: UtcDateTime | None
    last_counted_at: UtcDateTime | None
    leave_id: int | None
    village_code: str | None = Field(description="the assigned village that day")
    violation: Literal["leave_overstay"] | None = Field(
        description="leave_overstay: away after the leave ended without returning (超假)"
    )


class OverstayOut(BaseModel):
    leave_id: int
    start: date
    end: date


class PresenceOut(BaseModel):
    member_id: int
    days: list[PresenceDayOut]
    overstays: list[OverstayOut]
    calendar: CalendarSource


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
