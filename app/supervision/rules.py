"""Supervision's rules as pure functions: no database, no clock (now is an argument)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.core.policy import SupervisionPolicy

AnswerStatus = Literal["answered", "late", "outside", "mock", "at_home_unit", "not_called"]
Bucket = Literal["responded", "excused", "rejected", "missing"]
Level = Literal["township", "county", "city"]

# Violation codes a rectification may name (API.md, "Compliance and supervision").
VIOLATION_CODES = frozenset(
    {
        "absent_without_leave",
        "leave_overstay",
        "short_visits",
        "missed_roll_call",
        "suspicious_checkins",
        "rotation",
        "inspection_discrepancy",
        "late_event_report",
        "absent_run",
        "households_overdue",
        "visit_denied",
        "unknown_to_household",
        "recalled_to_unit",
    }
)
_PERIOD = re.compile(r"\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?")
LEVELS: dict[str, int] = {"township": 1, "county": 2, "city": 3}


# --------------------------------------------------------------------------------- roll calls


def window_refusal(minutes: int, policy: SupervisionPolicy) -> str | None:
    """Why a roll-call window is refused, or None when the policy allows it."""
    if minutes < policy.roll_call_min_window_minutes:
        return f"at least {policy.roll_call_min_window_minutes} minute(s)"
    if minutes > policy.roll_call_max_window_minutes:
        return f"at most {policy.roll_call_max_window_minutes} minutes"
    return None


@dataclass(frozen=True)
class Answer:
    """A check-in carrying a roll call's id, as far as the roll call judges it."""

    checkin_id: int
    captured_at: datetime
    geofence: str | None
    flags: Sequence[str]
    voided: bool = False


def judge_answer(answer: Answer, issued_at: datetime, deadline: datetime) -> AnswerStatus:
    """How a called member's answer fares: a mock fix is never an answer; one captured outside
    the window is late (before the call too: it cannot be answering it); one not inside or near
    the assigned village is outside; one from the dispatching unit's office on a working day
    is at_home_unit (两头跑), whatever else it is."""
    if "mock_location" in answer.flags:
        return "mock"
    if "at_home_unit" in answer.flags:
        return "at_home_unit"
    if not issued_at <= answer.captured_at <= deadline:
        return "late"
    if answer.geofence not in ("inside", "near"):
        return "outside"
    return "answered"


@dataclass(frozen=True)
class Verdict:
    bucket: Bucket
    checkin_id: int | None
    reason: str | None


def verdict(
    answers: Iterable[Answer], excused: bool, issued_at: datetime, deadline: datetime
) -> Verdict:
    """Where a called member stands: responded (the first good answer) beats excused (on
    approved leave that day), which beats rejected (the first bad answer, with its reason:
    late, outside, mock, at_home_unit or voided); no answer at all is missing."""
    rejected: Verdict | None = None
    for answer in sorted(answers, key=lambda a: (a.captured_at, a.checkin_id)):
        status = "voided" if answer.voided else judge_answer(answer, issued_at, deadline)
        if status == "answered":
            return Verdict("responded", answer.checkin_id, None)
        if rejected is None:
            rejected = Verdict("rejected", answer.checkin_id, status)
    if excused:
        return Verdict("excused", None, None)
    return rejected or Verdict("missing", None, None)


def missed(bucket: Bucket, deadline: datetime, now: datetime) -> bool:
    """A missed roll call: the window has closed with no good answer and no leave."""
    return now > deadline and bucket in ("rejected", "missing")


# -------------------------------------------------------------------------------- inspections


def near_visit(captured_at: datetime, visited_at: datetime, policy: SupervisionPolicy) -> bool:
    """A fix this close to a visit contradicts the member being found absent."""
    return abs(captured_at - visited_at) <= timedelta(hours=policy.inspection_window_hours)


# ------------------------------------------------------------------------------------- events


def is_late_report(occurred_at: datetime, reported_at: datetime, p: SupervisionPolicy) -> bool:
    return reported_at - occurred_at > timedelta(hours=p.late_event_report_hours)


def ack_due(reported_at: datetime, policy: SupervisionPolicy) -> datetime:
    """When an unacknowledged event becomes overdue."""
    return reported_at + timedelta(hours=policy.event_ack_hours)


def is_overdue_event(
    reported_at: datetime, acknowledged_at: datetime | None, now: datetime, p: SupervisionPolicy
) -> bool:
    return acknowledged_at is None and now > ack_due(reported_at, p)


# ----------------------------------------------------------------------------- rectifications


def valid_period(period: str) -> bool:
    """`2026Q4`, `2026-11` or `2026`."""
    return _PERIOD.fullmatch(period) is not None


def may_close(
    source_kind: str, opener_level: str, opener_id: int, closer_level: str, closer_id: int
) -> bool:
    """No covering up: an item born of an inspection is closed only by a reviewer above the
    level that opened it; at the top (city) by another city user. Others: any level."""
    if source_kind != "inspection":
        return True
    opener, closer = LEVELS[opener_level], LEVELS[closer_level]
    if opener == max(LEVELS.values()):
        return closer == opener and closer_id != opener_id
    return closer > opener
