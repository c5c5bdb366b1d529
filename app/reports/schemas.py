"""Response bodies of the dashboard's data endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.ledger.schemas import DayStatus
from app.reports.rules import VillageState


class MapVillage(BaseModel):
    code: str
    name: str
    township_code: str
    county_code: str
    assigned: int = Field(description="members assigned on the day")
    on_post: int = Field(description="day rule met (today: a counted check-in so far)")
    on_leave: int
    rate: float | None = Field(description="on_post / (assigned - on_leave)")
    state: VillageState = Field(description="the map colour: good, fair, poor, leave, empty")
    geometry: dict[str, Any] | None = Field(description="simplified GeoJSON boundary")


class AtRiskMember(BaseModel):
    member_id: int
    full_name: str
    unit: str
    village_code: str
    absent_workdays: int | None = Field(
        None, description="on-post colouring: absent working days in the trend window"
    )
    last_absent: date | None = None
    status: str | None = Field(
        None, description="compliance colouring: at_risk, unattainable or missed"
    )
    needed_days: int | None = None


class TrendDay(BaseModel):
    date: date
    assigned: int
    present: int
    on_leave: int
    rate: float | None = Field(description="present / (assigned - on_leave); null for today")


class OverviewOut(BaseModel):
    scope: str
    date: date
    colour_by: Literal["on_post", "compliance"]
    period: str | None = Field(description="compliance colouring: the quota period")
    villages: list[MapVillage]
    at_risk: list[AtRiskMember]
    trend: list[TrendDay]


class TeamDay(BaseModel):
    date: date
    status: DayStatus
    workday: bool
    counted_checkins: int
    village_code: str | None


class TeamMember(BaseModel):
    member_id: int
    full_name: str
    position: str
    unit: str
    days: list[TeamDay]


class VillageTeamOut(BaseModel):
    code: str
    name: str
    boundary: dict[str, Any] = Field(
        description="GeoJSON, the current boundary simplified to the policy's "
        "villages.outline_tolerance_m (5 m by default)"
    )
    team: list[TeamMember]
