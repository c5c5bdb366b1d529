"""The households domain's rules as pure functions: no database, no clock."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.core.policy import EvaluationPolicy, Policy

EARTH_RADIUS_M = 6_371_008.8


def interval_days(policy: Policy, risk: str) -> int:
    """Days between visits a household of this risk tier is due (policy.visits)."""
    return int(getattr(policy.visits.interval_days, risk))


def due_base(last_visit_on: date | None, paired_from: date | None, created_on: date) -> date:
    """What a household's due date counts from: its last credited visit or its pairing's
    start, whichever is later (a new member is not overdue for the last one's silence)."""
    known = [d for d in (last_visit_on, paired_from) if d is not None]
    return max(known) if known else created_on


def next_due(base: date, risk: str, policy: Policy) -> date:
    return base + timedelta(days=interval_days(policy, risk))


def mask_phone(phone: str | None) -> str | None:
    """138****5678: the first three and the last four digits."""
    if phone is None:
        return None
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle metres between two WGS84 points (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def at_household(distance: float, accuracy: float, policy: Policy) -> bool:
    """The fix may lie at the household: its distance, less its accuracy, within the radius."""
    return distance - accuracy <= policy.visits.radius_m


@dataclass(frozen=True)
class Overdue:
    """A household overdue during a member's pairing: from `start`, `days` long (to `end`)."""

    start: date
    end: date
    days: int


def overdue_spans(
    paired_from: date,
    paired_to: date | None,
    visits: Sequence[date],
    interval: int,
    start: date,
    end: date,
) -> list[Overdue]:
    """The days in [start, end] a household was overdue while paired with the member: each
    credited visit of theirs (and the pairing's start) makes it due `interval` days later;
    from the day after that due date until the next visit it is overdue."""
    horizon = min(end, paired_to or end)
    anchors = sorted({paired_from, *(v for v in visits if paired_from <= v <= horizon)})
    out = []
    for i, anchor in enumerate(anchors):
        first = anchor + timedelta(days=interval + 1)
        last = anchors[i + 1] - timedelta(days=1) if i + 1 < len(anchors) else horizon
        lo, hi = max(first, start), min(last, horizon)
        if lo <= hi:
            out.append(Overdue(lo, hi, (hi - first).days + 1))
    return out


GradeHint = str


def rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


def grade_hint(rates: Sequence[float | None], policy: EvaluationPolicy) -> GradeHint:
    """excellent_eligible: every known rate at or above `excellent_min_rate`; referral: any
    below `referral_below_rate`; ordinary otherwise. A hint; people grade."""
    known = [r for r in rates if r is not None]
    if any(r < policy.referral_below_rate for r in known):
        return "referral"
    if known and all(r >= policy.excellent_min_rate for r in known):
        return "excellent_eligible"
    return "ordinary"


def interval_names() -> tuple[str, ...]:
    return ("high", "key", "general")
