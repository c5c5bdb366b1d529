"""The deployment's rules (DESIGN.md "Rules that are policy, not code").

Every number that a rule uses lives here, with the city organisation department's defaults built
in; a deployment overrides any of them with a TOML file named by `ZHUCUN_POLICY`. Code reads the
numbers from a `Policy`, never repeats them.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Flag = Literal[
    "mock_location",
    "low_accuracy",
    "impossible_speed",
    "clock_skew",
    "late_sync",
    "repeated_fix",
    "device_change",
    "wrong_village",
    "no_assignment",
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuotaPolicy(_Section):
    days_per_quarter: int = Field(50, ge=0, le=92, description="credited days required per quarter")


class DayRulePolicy(_Section):
    min_checkins: int = Field(2, ge=1, description="counted check-ins needed on a local day")
    min_span_hours: float = Field(
        6.0, ge=0, le=24, description="hours between the first and last counted check-in"
    )


class GeofencePolicy(_Section):
    near_m: float = Field(200.0, ge=0, description="tolerance outside the boundary that counts")
    max_accuracy_m: float = Field(200.0, gt=0, description="worse accuracy is not credited")


class LeaveTier(_Section):
    max_days: int | None = Field(
        None, ge=1, description="longest leave (calendar days) this tier approves; null = any"
    )
    approver: Literal["township", "county", "city"]
    filed_with: Literal["county", "city"] | None = None


class LeavePolicy(_Section):
    tiers: tuple[LeaveTier, ...] = (
        LeaveTier(max_days=3, approver="township"),
        LeaveTier(max_days=None, approver="county", filed_with="city"),
    )

    @field_validator("tiers")
    @classmethod
    def _ordered_with_catch_all(cls, tiers: tuple[LeaveTier, ...]) -> tuple[LeaveTier, ...]:
        if not tiers or tiers[-1].max_days is not None:
            raise ValueError("the last leave tier must have no max_days (it takes the rest)")
        bounds = [t.max_days for t in tiers[:-1]]
        if any(b is None for b in bounds) or bounds != sorted(bounds):  # type: ignore[type-var]
            raise ValueError("leave tiers must be ordered by increasing max_days")
        return tiers

    def tier_for(self, days: int) -> LeaveTier:
        """The tier that approves a leave of `days` calendar days."""
        for tier in self.tiers:
            if tier.max_days is None or days <= tier.max_days:
                return tier
        return self.tiers[-1]


class FlagPolicy(_Section):
    max_speed_kmh: float = Field(300.0, gt=0)
    max_clock_ahead_s: float = Field(300.0, ge=0)
    late_sync_hours: float = Field(72.0, ge=0)
    max_age_days: int = Field(30, ge=1, description="older fixes are refused (too_old)")
    max_future_hours: float = Field(24.0, ge=0, description="later fixes are refused (in_future)")
    uncredited: tuple[Flag, ...] = Field(
        ("mock_location",), description="flags that leave a fix uncredited"
    )


class CalendarPolicy(_Section):
    """Fallback for years the holiday library does not know yet."""

    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = Field((), description="make-up working days (调休) on weekends")


class SupervisionPolicy(_Section):
    inspection_window_hours: float = Field(2.0, gt=0)
    event_ack_hours: float = Field(24.0, gt=0)


class DashboardPolicy(_Section):
    """How the map page (GET /dashboard) colours villages and picks members at risk."""

    good_rate: float = Field(0.8, ge=0, le=1, description="on-post rate shown as good")
    fair_rate: float = Field(0.5, ge=0, le=1, description="below this the village shows poor")
    trend_days: int = Field(30, ge=2, le=120, description="days of the on-post trend chart")
    at_risk_absent_workdays: int = Field(
        3, ge=1, description="absent working days in the trend window that list a member at risk"
    )


class Policy(_Section):
    timezone: str = "Asia/Shanghai"
    quota: QuotaPolicy = QuotaPolicy()
    day_rule: DayRulePolicy = DayRulePolicy()
    geofence: GeofencePolicy = GeofencePolicy()
    leave: LeavePolicy = LeavePolicy()
    flags: FlagPolicy = FlagPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    supervision: SupervisionPolicy = SupervisionPolicy()
    dashboard: DashboardPolicy = DashboardPolicy()

    @model_validator(mode="after")
    def _known_zone(self) -> Policy:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_policy(path: Path | None) -> Policy:
    """The defaults, overridden by the TOML file at `path` when given."""
    if path is None:
        return Policy()
    with path.open("rb") as fh:
        return Policy.model_validate(tomllib.load(fh))


@lru_cache
def get_policy() -> Policy:
    from app.core.config import get_settings

    return load_policy(get_settings().policy_file)
