"""The ledger's rules as pure functions: no database, no clock (today is an argument).

A day's stored facts come from its counted fixes and the leave covering it; its status and any
overstay are derived from those facts, the member's assignments and today.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from app.core.policy import DayRulePolicy

Status = Literal["present", "partial", "leave", "absent", "pending", "unassigned"]

# Leave statuses whose days are (or were) lawfully away.
COVERING_STATUSES = ("approved", "returned")


@dataclass(frozen=True)
class LeaveSpan:
    """A leave as the ledger sees it."""

    id: int
    status: str
    start: date
    end: date
    returned_on: date | None = None

    def covers(self, day: date) -> bool:
        """Leave that is approved and not yet returned from holds `day`."""
        if self.status not in COVERING_STATUSES or not self.start <= day <= self.end:
            return False
        return self.returned_on is None or day < self.returned_on


@dataclass(frozen=True)
class Period:
    """An assignment's days, `end` None for open-ended."""

    start: date
    end: date | None

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class DayFacts:
    """What is stored for a member's day (a row of presence_days)."""

    counted_checkins: int
    first_counted_at: datetime | None
    last_counted_at: datetime | None
    present: bool
    leave_id: int | None


def day_rule_met(
    rule: DayRulePolicy, count: int, first: datetime | None, last: datetime | None
) -> bool:
    """At least `min_checkins` counted fixes, the first and last `min_span_hours` apart."""
    if count < rule.min_checkins or first is None or last is None:
        return False
    return last - first >= timedelta(hours=rule.min_span_hours)


def covering_leave(leaves: Iterable[LeaveSpan], day: date) -> int | None:
    """The id of the leave covering `day` (the oldest, should two ever overlap)."""
    ids = [leave.id for leave in leaves if leave.covers(day)]
    return min(ids) if ids else None


def day_facts(
    rule: DayRulePolicy,
    count: int,
    first: datetime | None,
    last: datetime | None,
    leave_id: int | None,
) -> DayFacts | None:
    """The row for a day, or None when there is nothing to store (no fix, no leave)."""
    if count == 0 and leave_id is None:
        return None
    if count == 0:
        first = last = None
    return DayFacts(count, first, last, day_rule_met(rule, count, first, last), leave_id)


def facts_from_fixes(
    rule: DayRulePolicy, fixes: Iterable[tuple[date, datetime]], leaves: Sequence[LeaveSpan]
) -> dict[date, DayFacts]:
    """The whole ledger of one member from their counted fixes (local date, instant) and leave."""
    by_day: dict[date, list[datetime]] = {}
    for day, at in fixes:
        by_day.setdefault(day, []).append(at)
    days = set(by_day)
    for leave in leaves:
        if leave.status in COVERING_STATUSES:
            last = (
                leave.end
                if leave.returned_on is None
                else min(leave.end, leave.returned_on - timedelta(days=1))
            )
            days.update(_days(leave.start, last))
    out: dict[date, DayFacts] = {}
    for day in days:
        times = by_day.get(day, [])
        facts = day_facts(
            rule,
            len(times),
            min(times, default=None),
            max(times, default=None),
            covering_leave(leaves, day),
        )
        if facts is not None:
            out[day] = facts
    return out


def status(facts: DayFacts | None, assigned: bool, day: date, today: date) -> Status:
    """A day's status: present wins over leave (back early); today and later are pending."""
    if not assigned:
        return "unassigned"
    if facts is not None and facts.present:
        return "present"
    if facts is not None and facts.leave_id is not None:
        return "leave"
    if day >= today:
        return "pending"
    if facts is not None and facts.counted_checkins > 0:
        return "partial"
    return "absent"


@dataclass(frozen=True)
class Overstay:
    leave_id: int
    start: date
    end: date


def overstay(
    leave: LeaveSpan,
    first_back_fact: date | None,
    assignments: Sequence[Period],
    today: date,
) -> Overstay | None:
    """The days a member stayed away after `leave` ended (超假), up to yesterday.

    The member is back on the first of: the reported return, the first later day with a counted
    fix or other leave (`first_back_fact`), or a day without an assignment.
    """
    if leave.status not in COVERING_STATUSES:
        return None
    start = leave.end + timedelta(days=1)
    back = today
    if leave.returned_on is not None:
        back = min(back, leave.returned_on)
    if first_back_fact is not None:
        back = min(back, first_back_fact)
    day = start  # walk the assignments holding the days from `start` until one is missing
    while day < back:
        holding = next((p for p in assignments if p.holds(day)), None)
        if holding is None:
            back = day
        elif holding.end is not None:
            day = holding.end + timedelta(days=1)
            continue
        break
    if back <= start:
        return None
    return Overstay(leave.id, start, back - timedelta(days=1))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def days_between(start: date, end: date) -> list[date]:
    """Every day from `start` to `end`, both included."""
    return _days(start, end)
