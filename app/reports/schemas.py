"""Response bodies of the dashboard's data endpoints."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.geojson import Geometry
from app.ledger.schemas import DayStatus
from app.reports import compliance_report, monthly, presence, rollup_report, surveys_report
from app.reports.columns import row_model
from app.reports.rules import VillageState

# ------------------------------------------------------------------- the exports' JSON form

PresenceRow = row_model(
    "PresenceRow", "A member's day (驻村考勤明细), as the presence report has it.", presence.COLUMNS
)
ComplianceReportRow = row_model(
    "ComplianceReportRow",
    "A member's compliance over the period (驻村考核), violations counted by code.",
    compliance_report.COLUMNS,
)
DivisionRow = row_model(
    "DivisionRow", "A county's or township's month (县乡汇总).", monthly.DIVISION_COLUMNS
)
BelowPaceRow = row_model(
    "BelowPaceRow",
    "A member below pace in the current quota period (进度落后名单).",
    monthly.BELOW_PACE_COLUMNS,
)


SurveyVillageRow = row_model(
    "SurveyVillageRow",
    "A village's wave results (满意度测评·各村); anomaly columns count the answers named.",
    surveys_report.VILLAGE_COLUMNS,
)
SurveyMemberRow = row_model(
    "SurveyMemberRow",
    "A member's wave results (满意度测评·队员): the villages served during the wave.",
    surveys_report.MEMBER_COLUMNS,
)


class SurveyReport(BaseModel):
    """`format=json`: the wave's two tables."""

    villages: list[SurveyVillageRow]  # type: ignore[valid-type]
    members: list[SurveyMemberRow]  # type: ignore[valid-type]


class PresenceReportPage(BaseModel):
    """`format=json`: a page of the presence report."""

    items: list[PresenceRow]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last")


class ComplianceReportPage(BaseModel):
    """`format=json`: a page of the compliance report."""

    items: list[ComplianceReportRow]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last")


RollupComplianceReportRow = row_model(
    "RollupComplianceReportRow",
    "A province's members judged over the period (全国考核汇总), from the national rollup.",
    rollup_report.COLUMNS,
)


class RollupComplianceReportPage(BaseModel):
    """`format=json`: the national compliance report (one page: a row per province)."""

    items: list[RollupComplianceReportRow]  # type: ignore[valid-type]
    next_cursor: str | None = Field(description="always null: every province on one page")


class MonthlyBulletin(BaseModel):
    """`format=json`: the monthly bulletin's two tables."""

    divisions: list[DivisionRow]  # type: ignore[valid-type]
    below_pace: list[BelowPaceRow]  # type: ignore[valid-type]


# ----------------------------------------------------------------------------- the dashboard


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
    geometry: Geometry | None = Field(description="the boundary, simplified (GeoJSON, WGS84)")


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
    boundary: Geometry = Field(
        description="GeoJSON (WGS84), the current boundary simplified to the policy's "
        "villages.outline_tolerance_m (5 m by default)"
    )
    team: list[TeamMember]
