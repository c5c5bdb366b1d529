"""The deployment's rules: every number a rule uses, overridable by a TOML file.

Every number that a rule uses lives here, with the city organisation department's defaults built
in; a deployment overrides any of them with a TOML file named by `ZHUCUN_POLICY`. Code reads the
numbers from a `Policy`, never repeats them.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

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
    "wifi_mismatch",
    "at_home_unit",  # at the dispatching unit's office on a working day (两头跑)
    "shared_device",  # the device sent another member's fixes too (代打卡)
    "replayed_track",  # a finding recorded later beside the fixes, never a stored flag
]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


QuotaPeriod = Literal["month", "quarter", "year"]
# The longest period of each kind, in days: a rule may not ask for more.
PERIOD_MAX_DAYS: dict[str, int] = {"month": 31, "quarter": 92, "year": 366}


class QuotaRule(_Section):
    """Credited days required per calendar period; `official_counts`: official business (公出)
    on working days counts as presence."""

    period: QuotaPeriod
    days: int = Field(ge=0, description="credited days required in a whole period")
    official_counts: bool = False

    @model_validator(mode="after")
    def _fits_the_period(self) -> QuotaRule:
        if self.days > PERIOD_MAX_DAYS[self.period]:
            raise ValueError(f"a {self.period} has at most {PERIOD_MAX_DAYS[self.period]} days")
        return self


class QuotaPolicy(_Section):
    """One or more rules; a member meets the quota only by meeting every one of them."""

    rules: tuple[QuotaRule, ...] = (QuotaRule(period="quarter", days=50),)

    @model_validator(mode="before")
    @classmethod
    def _days_per_quarter(cls, data: Any) -> Any:
        # The older spelling `days_per_quarter = N` means one quarter rule of N days. Given with
        # `rules`, the two must say the same thing (as `/policy` prints both), or it is refused.
        if not isinstance(data, dict) or "days_per_quarter" not in data:
            return data
        data = dict(data)
        days = data.pop("days_per_quarter")
        if days is None:
            return data
        rule = {"period": "quarter", "days": days, "official_counts": False}
        if "rules" not in data:
            data["rules"] = (rule,)
            return data
        quarter = [QuotaRule.model_validate(r) for r in data["rules"]]
        quarter = [r for r in quarter if r.period == "quarter"]
        if len(quarter) != 1 or quarter[0].days != days:
            raise ValueError(
                "quota.days_per_quarter is the older spelling of one quarter rule; "
                "with quota.rules, set the days in the quarter rule and drop days_per_quarter"
            )
        return data

    @field_validator("rules")
    @classmethod
    def _one_rule_per_period(cls, rules: tuple[QuotaRule, ...]) -> tuple[QuotaRule, ...]:
        if not rules:
            raise ValueError("quota.rules needs at least one rule")
        periods = [r.period for r in rules]
        if len(set(periods)) != len(periods):
            raise ValueError("quota.rules may hold one rule per period (month, quarter, year)")
        return rules

    @computed_field(description="the quarter rule's days (read-only; null without one)")
    def days_per_quarter(self) -> int | None:
        rule = self.rule_for("quarter")
        return None if rule is None else rule.days

    def rule_for(self, period: str) -> QuotaRule | None:
        return next((r for r in self.rules if r.period == period), None)


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
    max_speed_kmh: float = Field(
        300.0, gt=0, description="implied speed beyond both fixes' accuracy circles"
    )
    speed_min_interval_s: float = Field(
        10.0,
        ge=0,
        description="shortest time base of the implied speed: two fixes seconds apart (a "
        "provider switch) are judged as if this far apart",
    )
    repeat_tolerance_m: float = Field(
        1.0, ge=0, description="a fix this close to one of another day may be a replay"
    )
    repeat_accuracy_tolerance_m: float = Field(0.1, ge=0)
    repeat_altitude_tolerance_m: float = Field(0.2, ge=0)
    repeat_speed_tolerance_mps: float = Field(0.1, ge=0)
    repeat_heading_tolerance_deg: float = Field(1.0, ge=0)
    replay_track_tolerance_m: float = Field(
        5.0, ge=0, description="a replayed track's fixes lie this close to the original's"
    )
    replay_track_min_fixes: int = Field(
        6, ge=2, description="consecutive matching fixes that make a replayed track"
    )
    replay_track_min_spread_m: float = Field(
        50.0,
        ge=0,
        description="a run must cover this much ground: a phone logging at a desk every few "
        "minutes repeats itself genuinely",
    )
    replay_track_max_shift_minutes: float = Field(
        15.0, ge=0, description="how far from whole days the replay's time shift may lie"
    )
    replay_track_time_tolerance_s: float = Field(
        90.0, ge=0, description="how far each fix of a run may stray from the run's shift"
    )
    replay_track_lookback_days: int = Field(
        30, ge=1, description="earlier days a member-day is compared with"
    )
    max_clock_ahead_s: float = Field(300.0, ge=0)
    late_sync_hours: float = Field(72.0, ge=0)
    max_age_days: int = Field(30, ge=1, description="older fixes are refused (too_old)")
    max_future_hours: float = Field(24.0, ge=0, description="later fixes are refused (in_future)")
    shared_device_days: int = Field(
        30,
        ge=1,
        description="a device that sent another member's fixes this many days before or after "
        "a fix makes it shared_device",
    )
    uncredited: tuple[Flag, ...] = Field(
        ("mock_location",), description="flags that leave a fix uncredited"
    )
    serious: tuple[Flag, ...] = Field(
        (
            "mock_location",
            "impossible_speed",
            "repeated_fix",
            "clock_skew",
            "replayed_track",
            "shared_device",
        ),
        description="flags that compliance counts as suspicious_checkins",
    )


class CalendarPolicy(_Section):
    """Fallback for years the holiday library does not know yet."""

    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = Field((), description="make-up working days (调休) on weekends")


class RotationPolicy(_Section):
    """Taking turns (轮着来): a week in which the team's village saw someone on enough days, but
    hardly ever two of them at once, while a teammate was away without leave."""

    min_covered_days: int = Field(3, ge=1, le=7, description="days of the week someone was there")
    max_overlap_days: int = Field(
        1, ge=0, le=7, description="at most this many days with two or more of them there"
    )
    min_away_days: int = Field(
        3, ge=1, le=7, description="working days a teammate was absent without leave"
    )
    min_weeks: int = Field(3, ge=1, description="such weeks in the period to call it rotation")


class CompliancePolicy(_Section):
    absent_run_days: int = Field(
        5, ge=1, description="consecutive working days absent without leave that make absent_run"
    )
    short_visit_min_days: int = Field(
        4, ge=1, description="days with counted fixes that never made a day (short_visits)"
    )
    short_visit_min_share: float = Field(
        0.5, ge=0, le=1, description="…and at least this share of the days the member came"
    )
    rotation: RotationPolicy = RotationPolicy()
    unit_days: int = Field(
        3,
        ge=1,
        description="working days of a period with fixes at the dispatching unit's office "
        "that make recalled_to_unit (两头跑)",
    )


class SupervisionPolicy(_Section):
    township_roll_calls: bool = Field(
        False, description="township users may issue roll calls within their own township"
    )
    roll_call_min_window_minutes: int = Field(1, ge=1, description="shortest roll-call window")
    roll_call_max_window_minutes: int = Field(
        1440, ge=1, le=1440, description="longest roll-call window (at most a day)"
    )
    inspection_window_hours: float = Field(
        2.0, gt=0, description="counted fixes this close to a visit contradict 'found absent'"
    )
    event_ack_hours: float = Field(
        24.0, gt=0, description="an event unacknowledged this long after its report is overdue"
    )
    late_event_report_hours: float = Field(
        24.0, gt=0, description="an event reported this long after it occurred is late"
    )
    max_roll_calls_per_member_month: int = Field(
        4,
        ge=1,
        description="roll calls a member may be called to in a calendar month (local time); one "
        "more is refused (422 roll_call_cap): the burden on grassroots cadres stays capped",
    )

    @model_validator(mode="after")
    def _ordered_windows(self) -> SupervisionPolicy:
        if self.roll_call_min_window_minutes > self.roll_call_max_window_minutes:
            raise ValueError("roll_call_min_window_minutes exceeds roll_call_max_window_minutes")
        return self


class PrivacyPolicy(_Section):
    """Retention of sensitive personal information (PIPL Art. 28: 行踪轨迹) and the notice."""

    raw_fix_days: int = Field(
        180,
        ge=1,
        description="a fix's raw position, motion and Wi-Fi are purged this many days after "
        "capture (`zhucun privacy purge`); the judgement, flags and hashes stay",
    )
    household_phone_days: int = Field(
        365, ge=1, description="a household's phone number is purged this long after its pairing"
    )
    purge_batch: int = Field(
        2000, ge=1, le=100_000, description="fixes purged per transaction (short locks)"
    )
    contact: str = Field(
        "驻村工作管理系统运维单位（所在县区党委组织部）",
        max_length=200,
        description="whom members contact about their personal information (in the notice)",
    )


class FeedbackPolicy(_Section):
    """Complaints and suggestions (投诉建议)."""

    reply_workdays: int = Field(
        15, ge=1, description="working days to answer one before it shows overdue"
    )


class DashboardPolicy(_Section):
    """How the map page (GET /dashboard) colours villages and picks members at risk."""

    good_rate: float = Field(0.8, ge=0, le=1, description="on-post rate shown as good")
    fair_rate: float = Field(0.5, ge=0, le=1, description="below this the village shows poor")
    trend_days: int = Field(30, ge=2, le=120, description="days of the on-post trend chart")
    at_risk_absent_workdays: int = Field(
        3, ge=1, description="absent working days in the trend window that list a member at risk"
    )


class VillagePolicy(_Section):
    """Village boundaries: what an import accepts, and how boundaries are served."""

    max_vertices: int = Field(
        200_000, ge=4, description="a boundary with more vertices is refused at import"
    )
    outline_tolerance_m: float = Field(
        5.0,
        ge=0,
        le=1000,
        description="boundaries are served simplified to this many metres (the geofence "
        "matches the whole stored boundary); 0 serves them whole",
    )
    max_overlap_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="a village may overlap another by this share of the smaller one's area; "
        "an import with more is refused unless --allow-overlap",
    )


class DivisionPolicy(_Section):
    """Names of the deployment's townships (9-digit codes) and counties (6 digits), shown
    beside their codes in exports (villages carry their own names from their import)."""

    names: dict[str, str] = Field(
        default_factory=dict, description='division code → name, e.g. 430121 = "长沙县"'
    )

    @model_validator(mode="after")
    def _codes(self) -> DivisionPolicy:
        for code, name in self.names.items():
            if not (code.isdigit() and len(code) in (6, 9)):
                raise ValueError(f"{code!r} is not a 6-digit county or 9-digit township code")
            if not name.strip() or len(name) > 100:
                raise ValueError(f"the name of {code} must be 1 to 100 characters")
        return self


class VisitIntervals(_Section):
    """Days between visits a household is due, by its risk tier."""

    high: int = Field(7, ge=1, le=366)
    key: int = Field(30, ge=1, le=366)
    general: int = Field(90, ge=1, le=366)


class VisitPolicy(_Section):
    """Household visits (帮扶到户): when a visit is at the household, when it is due, and the
    household's countersign."""

    interval_days: VisitIntervals = VisitIntervals()
    radius_m: float = Field(
        100.0, ge=0, description="a fix this close to the household's point (minus accuracy)"
    )
    countersign_minutes: float = Field(
        30.0, gt=0, description="a countersign is offered only for a fix younger than this"
    )
    countersign_valid_hours: float = Field(
        48.0, gt=0, le=24 * 30, description="how long the household's link and code answer"
    )
    max_households_per_confirmer: int = Field(
        3,
        ge=1,
        description="a browser confirming visits of more households in 30 days marks "
        "same_confirmer",
    )


class EvaluationPolicy(_Section):
    """The annual evaluation's grade hint from the four rates (住村率, 入户率, 满意度, 认识度)."""

    excellent_min_rate: float = Field(
        0.98, ge=0, le=1, description="every rate at or above it: excellent_eligible"
    )
    referral_below_rate: float = Field(0.80, ge=0, le=1, description="any rate below it: referral")


SecurityProfile = Literal["basic", "dengbao3"]
# The roles that need a second factor under the dengbao3 profile (API.md, "Privacy and the
# government-app rules"): the administrative and the supervising ones.
SECOND_FACTOR_ROLES = (
    "admin",
    "sysadmin",
    "security_admin",
    "audit_admin",
    "auditor",
    "city",
    "county",
)
# What `profile = "dengbao3"` turns on; `basic` leaves each at its `None` (today's behaviour).
DENGBAO3: dict[str, Any] = {
    "password_min_length": 8,
    "password_classes": 3,
    "password_history": 5,
    "password_max_age_days": 90,
    "lockout_failures": 5,
    "lockout_minutes": 30,
    "idle_timeout_minutes": 30,
    "second_factor_roles": SECOND_FACTOR_ROLES,
    "separation_of_duties": True,
}


class SecurityPolicy(_Section):
    """Sign-in hardening for 等保 2.0 level 3 (GB/T 22239-2019). `profile = "dengbao3"` turns
    on every item at the values of `DENGBAO3`; each may still be set one by one. Under
    `basic` (the default) every item is off (None/empty/false): today's sign-in, plus the
    login log, which both profiles keep."""

    profile: SecurityProfile = "basic"
    password_min_length: int = Field(8, ge=8, le=200, description="shortest password")
    password_classes: int | None = Field(
        None, ge=0, le=4, description="character classes (lower, upper, digit, other) needed"
    )
    password_history: int | None = Field(
        None,
        ge=0,
        le=24,
        description="a new password may not be one of the last N (current included)",
    )
    password_max_age_days: int | None = Field(
        None, ge=0, description="older passwords must be changed before anything else"
    )
    lockout_failures: int | None = Field(
        None, ge=0, description="wrong passwords in a row that lock the account (423)"
    )
    lockout_minutes: int = Field(30, ge=1, description="how long a lockout lasts")
    idle_timeout_minutes: int | None = Field(
        None, ge=0, description="a non-member session idle this long ends (401 session_idle)"
    )
    second_factor_roles: tuple[str, ...] = Field(
        (), description="roles that sign in with a TOTP code (RFC 6238) beside the password"
    )
    separation_of_duties: bool = Field(
        False,
        description="三员分立: no account may hold `admin` (sysadmin, security_admin, audit_admin)",
    )
    login_log_days: int = Field(180, ge=1, description="days every login attempt is kept")
    # An item set to 0 (TOML has no null) is off, as under `basic`.

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("profile") == "dengbao3":
            return {**DENGBAO3, **data}
        return data


QuestionKind = Literal["known", "presence", "visited", "satisfaction"]


class SurveyQuestion(_Section):
    """One question of a satisfaction wave, answered 1–5 or `unknown` (不清楚)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$", description="e.g. q1")
    text: str = Field(min_length=1, max_length=200)
    kind: QuestionKind


DEFAULT_QUESTIONS = (
    SurveyQuestion(id="q1", text="认识驻村第一书记和工作队员吗", kind="known"),
    SurveyQuestion(id="q2", text="他们经常在村吗", kind="presence"),
    SurveyQuestion(id="q3", text="到你家走访过吗", kind="visited"),
    SurveyQuestion(id="q4", text="对帮扶工作满意吗", kind="satisfaction"),
    SurveyQuestion(id="q5", text="对工作作风满意吗", kind="satisfaction"),
)


class SurveyPolicy(_Section):
    """Satisfaction waves (满意度测评): the standard questions, the codes, the throttle of the
    public answering routes, and the thresholds of the anomaly checks."""

    questions: tuple[SurveyQuestion, ...] = Field(
        DEFAULT_QUESTIONS, description="the questions of a wave opened without its own"
    )
    codes_per_village: int = Field(30, ge=1, le=1000, description="cards printed per village")
    max_answers_per_address: int = Field(
        30, ge=1, description="answers from one address within throttle_minutes (then 429)"
    )
    throttle_minutes: int = Field(10, ge=1, le=1440)
    identical_min_answers: int = Field(
        5, ge=2, description="identical answer vectors needed before chance is weighed"
    )
    identical_max_probability: float = Field(
        0.001,
        gt=0,
        lt=1,
        description="a vector given this many times or more is flagged when chance (each "
        "question answered independently, as the village answered it) gives it a smaller "
        "probability than this",
    )
    burst_minutes: int = Field(10, ge=1, le=1440, description="the window of a burst")
    burst_min_answers: int = Field(
        6, ge=2, description="answers in one village within burst_minutes that make a burst"
    )
    same_device_min_answers: int = Field(
        3, ge=2, description="codes answered from one device (address and browser) in a village"
    )
    off_hours_start: int = Field(23, ge=0, le=23, description="local hour odd hours begin")
    off_hours_end: int = Field(6, ge=0, le=23, description="local hour odd hours end")
    off_hours_min_answers: int = Field(
        3, ge=1, description="answers at odd hours in a village that are shown as an anomaly"
    )
    device_days: int = Field(
        90,
        ge=1,
        description="days after a wave closes that its device hashes are kept; then each is "
        "replaced by a number that only groups the wave's own answers",
    )

    @field_validator("questions")
    @classmethod
    def _well_formed(cls, questions: tuple[SurveyQuestion, ...]) -> tuple[SurveyQuestion, ...]:
        ids = [q.id for q in questions]
        if not questions or len(set(ids)) != len(ids):
            raise ValueError("surveys.questions needs questions with distinct ids")
        if sum(q.kind == "known" for q in questions) > 1:
            raise ValueError("surveys.questions may hold one `known` question")
        return questions


class Policy(_Section):
    timezone: str = "Asia/Shanghai"
    quota: QuotaPolicy = QuotaPolicy()
    day_rule: DayRulePolicy = DayRulePolicy()
    geofence: GeofencePolicy = GeofencePolicy()
    leave: LeavePolicy = LeavePolicy()
    flags: FlagPolicy = FlagPolicy()
    calendar: CalendarPolicy = CalendarPolicy()
    supervision: SupervisionPolicy = SupervisionPolicy()
    compliance: CompliancePolicy = CompliancePolicy()
    dashboard: DashboardPolicy = DashboardPolicy()
    villages: VillagePolicy = VillagePolicy()
    privacy: PrivacyPolicy = PrivacyPolicy()
    feedback: FeedbackPolicy = FeedbackPolicy()
    divisions: DivisionPolicy = DivisionPolicy()

    visits: VisitPolicy = VisitPolicy()
    evaluation: EvaluationPolicy = EvaluationPolicy()
    security: SecurityPolicy = SecurityPolicy()
    surveys: SurveyPolicy = SurveyPolicy()

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
