"""Response bodies of the national rollup."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class RollupOnPostRow(BaseModel):
    province: str = Field(description="the publishing province's division code")
    assigned: int = Field(
        description="members assigned that day (by the province's last compliance refresh) "
        "or with a ledger day"
    )
    present: int = Field(description="members whose day is credited (within seconds)")
    on_leave: int = Field(description="members on approved leave (not present)")
    on_post_rate: float | None = Field(description="present / assigned")
    on_post_rate_excluding_leave: float | None = Field(
        description="present / (assigned - on_leave)"
    )


class RollupOnPostOut(BaseModel):
    """The national on-post rate of a day, per province (全国在岗率)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "date": "2026-12-07",
                    "scope": "",
                    "items": [
                        {
                            "province": "43",
                            "assigned": 30000,
                            "present": 26100,
                            "on_leave": 900,
                            "on_post_rate": 0.87,
                            "on_post_rate_excluding_leave": 0.8969,
                        }
                    ],
                }
            ]
        }
    )

    date: date
    scope: str = Field(description="the division prefix the provinces' codes start with")
    items: list[RollupOnPostRow]


class RollupComplianceRow(BaseModel):
    province: str = Field(description="the publishing province's division code")
    members: int = Field(description="members judged over the period (assigned in it)")
    compliant: int = Field(description="members who met the quota (status met)")
    compliance_rate: float | None = Field(description="compliant / members")
    summary: dict[str, int] = Field(description="members by status (met, on_track, …)")
    as_of: date | None = Field(
        description="the day of the oldest judgement among them: a province whose refresh "
        "has not run (or has not arrived) shows an old day"
    )


class RollupComplianceOut(BaseModel):
    """The national compliance results of a period, per province (全国考核汇总)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "2026Q4",
                    "scope": "",
                    "items": [
                        {
                            "province": "43",
                            "members": 30000,
                            "compliant": 21000,
                            "compliance_rate": 0.7,
                            "summary": {"met": 21000, "on_track": 6000, "at_risk": 3000},
                            "as_of": "2026-12-07",
                        }
                    ],
                }
            ]
        }
    )

    period: str
    scope: str = Field(description="the division prefix the provinces' codes start with")
    items: list[RollupComplianceRow]
