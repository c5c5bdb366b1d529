"""Request and response bodies of households, visits, countersigns, call-backs and plans
(API.md "Households and visits (帮扶到户)")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from app.checkins.schemas import Accuracy, Latitude, Longitude
from app.core.inputs import MAX_ID, Day, DivisionPrefix, Instant, Text
from app.core.time import UtcDateTime
from app.geo.coords import CoordSystem

Category = Literal["lifted", "monitored", "ordinary"]
Risk = Literal["high", "key", "general"]
Confirmation = Literal["pending", "confirmed", "denied", "unconfirmed"]
Topic = Literal[
    "income", "health", "education", "housing", "employment", "policy", "problem", "other"
]
MeasureKind = Literal[
    "industry", "employment", "education", "health", "housing", "social_security", "other"
]
MeasureStatus = Literal["planned", "in_progress", "done"]
GradeHint = Literal["excellent_eligible", "ordinary", "referral"]


def _number(value: object) -> object:
    # JSON true/false and numeric strings are not numbers.
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


# A JSON true is not a 1 (nor a score, nor an id); 9.0 is a 9, as JSON Schema says.
Score = Annotated[int, Field(ge=1, le=5), BeforeValidator(_number)]
MemberIdIn = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_number)]


class PointOut(BaseModel):
    """A GeoJSON Point, WGS84 (longitude, latitude)."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class PairingOut(BaseModel):
    member_id: int
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date | None

    model_config = ConfigDict(populate_by_name=True)


class MeasureIn(BaseModel):
    kind: MeasureKind
    description: Annotated[Text, Field(min_length=1, max_length=2000)]
    due_date: Day | None = None
    status: MeasureStatus = "planned"


class MeasureOut(BaseModel):
    kind: MeasureKind
    description: str
    due_date: dt.date | None
    status: MeasureStatus
    overdue: bool = Field(description="not done and past its due date")


class PlanIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "measures": [
                        {
                            "kind": "industry",
                            "description": "发展油茶种植 5 亩",
                            "due_date": "2027-03-31",
                            "status": "in_progress",
                        },
                        {
                            "kind": "health",
                            "description": "家庭医生签约，慢病随访",
                            "due_date": None,
                            "status": "planned",
                        },
                    ]
                }
            ]
        }
    )

    measures: list[MeasureIn] = Field(max_length=100)


class PlanOut(BaseModel):
    version: int
    measures: list[MeasureOut]
    overdue_measures: int
    updated_at: UtcDateTime
    updated_by: int


class PlanHistoryOut(BaseModel):
    items: list[PlanOut] = Field(description="plan versions, newest first")


class HouseholdOut(BaseModel):
    id: int
    household_code: str = Field(description="the county's own 户编号")
    village_code: str
    head_name: str
    address: str
    location: PointOut
    category: Category = Field(description="lifted 脱贫户, monitored 监测户, ordinary 一般户")
    risk: Risk
    phone: str | None = Field(
        description="masked 138****5678 except for the paired member and township-and-up "
        "users of its township"
    )
    member_id: int | None = Field(description="the paired 帮扶责任人 today")
    pairings: list[PairingOut]
    last_visit_at: UtcDateTime | None
    next_due: dt.date
    overdue: bool
    plan: PlanOut | None


class VisitIn(BaseModel):
    """A visit to a paired household, sent from the member's phone at the household. No photo
    is asked for or accepted."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "client_id": "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6",
                    "household_id": 12,
                    "captured_at": "2026-11-28T10:05:00+08:00",
                    "latitude": 28.3101,
                    "longitude": 113.0102,
                    "accuracy_m": 12,
                    "coord_system": "gcj02",
                    "topics": ["income", "health"],
                    "note": "了解油茶收成，提醒慢病随访",
                    "problems_found": False,
                }
            ]
        },
    )

    client_id: UUID = Field(description="made on the phone; the idempotency key")
    household_id: Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_number)]
    captured_at: Instant
    latitude: Latitude
    longitude: Longitude
    accuracy_m: Accuracy
    coord_system: CoordSystem = "wgs84"
    topics: list[Topic] = Field(default_factory=list, max_length=8)
    note: Annotated[Text, Field(max_length=2000)] = ""
    problems_found: StrictBool = False


class CountersignOffer(BaseModel):
    url: str = Field(description="/v/{token}: the household's page")
    code: str = Field(description="6 digits, typed on /v")
    expires_at: UtcDateTime


class VisitOut(BaseModel):
    id: int
    client_id: str
    household_id: int
    member_id: int
    captured_at: UtcDateTime
    distance_m: float = Field(description="from the fix to the household's point")
    at_household: bool = Field(description="distance minus accuracy ≤ policy.visits.radius_m")
    credited: bool
    checkin_id: int = Field(description="the same fix, stored as a check-in of the member")
    confirmation: Confirmation
    flags: list[str] = Field(description="same_confirmer when the confirming browser is suspect")
    topics: list[Topic]
    note: str
    problems_found: bool
    countersign: CountersignOffer | None


class CallbackBrief(BaseModel):
    id: int
    draw_id: int
    visit_id: int | None
    member_id: int
    status: Literal["pending", "done"]
    reached: bool | None
    visit_confirmed: Literal["yes", "no", "unsure"] | None
    knows_member: bool | None
    satisfaction: int | None
    note: str | None
    recorded_at: UtcDateTime | None


class HouseholdDetail(HouseholdOut):
    visits: list[VisitOut] = Field(description="the last 20 visits, newest first")
    callbacks: list[CallbackBrief]


class PairingIn(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={"examples": [{"member_id": 3, "from": "2026-12-01"}]},
    )

    member_id: MemberIdIn | None = Field(
        description="the new 帮扶责任人; null ends the current pairing the day before `from` "
        "(the household leaves the programme; its phone is purged "
        "policy.privacy.household_phone_days later)"
    )
    from_: Day = Field(alias="from")


class ImportProblem(BaseModel):
    line: int
    reason: str


class ImportSummary(BaseModel):
    households: int = Field(description="rows in the file")
    created: int
    updated: int
    unchanged: int
    pairings_started: int
    pairings_ended: int


class CountersignView(BaseModel):
    member_name: str
    village_name: str
    visited_at: UtcDateTime
    expires_at: UtcDateTime


class CountersignAnswer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"confirmed": True, "knows_member": True, "satisfaction": 5, "comment": "很好"}
            ]
        }
    )

    confirmed: StrictBool
    knows_member: StrictBool
    satisfaction: Score | None = None
    comment: Annotated[Text, Field(max_length=500)] | None = None


class CountersignReceipt(BaseModel):
    receipt: str = Field(description="8 characters the household may keep")


class CodeIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "123456"}]})

    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class TokenOut(BaseModel):
    token: str


class DrawIn(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "scope": "430121001",
                    "from": "2026-10-01",
                    "to": "2026-12-31",
                    "share": 0.1,
                    "min_per_member": 2,
                }
            ]
        },
    )

    scope: DivisionPrefix
    from_: Day = Field(alias="from")
    to: Day
    share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), BeforeValidator(_number)] = 0.1
    min_per_member: Annotated[int, Field(ge=0, le=50), BeforeValidator(_number)] = 2


class DrawItem(BaseModel):
    callback_id: int
    household_id: int
    head_name: str
    phone: str | None = Field(description="in full: the caller dials it")
    village_code: str
    member_id: int
    visit_id: int | None


class DrawOut(BaseModel):
    id: int
    seed: str = Field(description="re-derives the draw")
    items: list[DrawItem]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reached": True,
                    "visit_confirmed": "yes",
                    "knows_member": True,
                    "satisfaction": 4,
                    "note": "户主确认 11 月来过",
                }
            ]
        }
    )

    reached: StrictBool
    visit_confirmed: Literal["yes", "no", "unsure"] | None = None
    knows_member: StrictBool | None = None
    satisfaction: Score | None = None
    note: Annotated[Text, Field(max_length=2000)] | None = None


class CallbackOut(CallbackBrief):
    household_id: int
    village_code: str
    head_name: str
    phone: str | None
