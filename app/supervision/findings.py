"""What supervision tells compliance: findings against members, and the annual record (年考).

Compliance imports this module (arrows point down); nothing here knows compliance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.core.time import as_utc, utcnow
from app.core.time import today as local_today
from app.supervision import rules
from app.supervision.events import member_events
from app.supervision.inspections import contradictions
from app.supervision.models import Rectification
from app.supervision.roll_calls import member_record

_Date = date  # the field named `date` hides the type inside the class


@dataclass(frozen=True)
class Finding:
    member_id: int
    code: str  # missed_roll_call | inspection_discrepancy | late_event_report
    date: _Date | None
    start: _Date | None
    end: _Date | None
    detail: str


def findings_for_members(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Finding]]:
    """Supervision's findings against each member in [start, end], by member (members without
    any are left out). A fixed handful of statements for any number of members:
    - `missed_roll_call`: a roll call of a day in the range whose window has closed without a
      good answer (late, outside, mock or voided answers are no answer), the member not excused;
    - `inspection_discrepancy`: found absent at a visit in the range, with counted fixes near it;
    - `late_event_report`: an event that occurred in the range, reported after the policy's hours.
    """
    out: dict[int, list[Finding]] = {}
    if not member_ids:
        return out
    ids = sorted(set(member_ids))
    now = utcnow()
    for member_id, calls in member_record(session, ids, start, end).items():
        for call, verdict in calls:
            if rules.missed(verdict.bucket, as_utc(call.deadline), now):
                detail = f"roll call {call.id}: " + (verdict.reason or "no answer")
                out.setdefault(member_id, []).append(
                    Finding(member_id, "missed_roll_call", call.call_date, None, None, detail)
                )
    for c in contradictions(session, policy, member_ids=ids, start=start, end=end):
        detail = (
            f"inspection {c.inspection_id} at {c.village_code}: found absent, yet counted "
            f"check-in(s) {', '.join(map(str, c.checkin_ids))} near the visit"
        )
        out.setdefault(c.member_id, []).append(
            Finding(c.member_id, "inspection_discrepancy", c.visit_date, None, None, detail)
        )
    for e in member_events(session, policy, ids, start, end):
        occurred, reported = as_utc(e.occurred_at), as_utc(e.reported_at)
        if rules.is_late_report(occurred, reported, policy.supervision):
            hours = (reported - occurred).total_seconds() / 3600
            detail = f"event {e.id} ({e.kind}) reported {hours:.0f} h after it occurred"
            day = occurred.astimezone(policy.zone).date()
            out.setdefault(e.member_id, []).append(
                Finding(e.member_id, "late_event_report", day, None, None, detail)
            )
    for findings in out.values():
        findings.sort(key=lambda f: (f.date or start, f.code))
    return out


@dataclass(frozen=True)
class AnnualSupervision:
    roll_calls_issued: int
    roll_calls_answered: int
    events_reported: int
    events_late: int
    rectifications_opened: int
    rectifications_closed: int
    rectifications_overdue: int


def annual_supervision(
    session: Session, policy: Policy, member_id: int, year: int
) -> AnnualSupervision:
    """The member's supervision record for the annual evaluation (年考): roll calls of the year
    that called them and those they answered; events that occurred in the year and the late
    ones; rectifications opened in the year, those of them closed, and those of them open
    past their due date today."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    calls = member_record(session, [member_id], start, end).get(member_id, [])
    events = member_events(session, policy, [member_id], start, end)
    today = local_today(policy.zone)
    opened, closed, overdue = session.execute(
        select(
            func.count(),
            func.count().filter(Rectification.status == "closed"),
            func.count().filter(
                and_(Rectification.status == "open", Rectification.due_date < today)
            ),
        ).where(Rectification.member_id == member_id, Rectification.opened_on.between(start, end))
    ).one()
    return AnnualSupervision(
        roll_calls_issued=len(calls),
        roll_calls_answered=sum(1 for _, v in calls if v.bucket == "responded"),
        events_reported=len(events),
        events_late=sum(
            1
            for e in events
            if rules.is_late_report(
                as_utc(e.occurred_at), as_utc(e.reported_at), policy.supervision
            )
        ),
        rectifications_opened=opened,
        rectifications_closed=closed,
        rectifications_overdue=overdue,
    )
