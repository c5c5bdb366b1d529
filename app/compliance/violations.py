"""Violations: what the ledger's patterns show, and what other sources report.

A source is one function `(session, policy, member_ids, start, end) -> {member_id: [finding]}`
whose findings carry `code`, `date`, `start`, `end` and `detail`; `SOURCES` lists them, so a new
source (supervision's roll calls, inspections and event reports) plugs in with one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.checkins.models import CheckIn
from app.compliance import rules
from app.core.policy import Policy
from app.leave.models import LeaveRequest
from app.ledger import rules as ledger_rules
from app.ledger import service as ledger_service


class FindingLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def date(self) -> dt.date | None: ...
    @property
    def start(self) -> dt.date | None: ...
    @property
    def end(self) -> dt.date | None: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True)
class Violation:
    code: str
    date: dt.date | None
    start: dt.date | None
    end: dt.date | None
    detail: str

    @classmethod
    def of(cls, finding: FindingLike) -> Violation:
        return cls(finding.code, finding.date, finding.start, finding.end, finding.detail)


Source = Callable[[Session, Policy, Sequence[int], date, date], Mapping[int, Sequence[FindingLike]]]


def suspicious_checkins(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    """Fixes carrying a flag the policy names serious (`policy.flags.serious`)."""
    serious = policy.flags.serious
    if not serious or not member_ids:
        return {}
    # flags is a comma-separated list: match whole names.
    padded = "," + CheckIn.flags + ","
    rows = session.execute(
        select(
            CheckIn.member_id,
            func.count(),
            func.min(CheckIn.local_date),
            func.max(CheckIn.local_date),
        )
        .where(
            CheckIn.member_id.in_(member_ids),
            CheckIn.local_date.between(start, end),
            or_(*(padded.contains(f",{flag},") for flag in serious)),
        )
        .group_by(CheckIn.member_id)
    )
    names = ", ".join(serious)
    return {
        m: [
            Violation(
                "suspicious_checkins",
                first if first == last else None,
                None if first == last else first,
                None if first == last else last,
                f"{n} check-in(s) flagged {names} (可疑定位)",
            )
        ]
        for m, n, first, last in rows
    }


def leave_overstays(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    """Staying away after leave ended (超假), as the ledger derives it. The few members with a
    leave that ended in time to overstay are found in one query; the ledger judges each."""
    if not member_ids:
        return {}
    candidates = session.scalars(
        select(LeaveRequest.member_id)
        .distinct()
        .where(
            LeaveRequest.member_id.in_(member_ids),
            LeaveRequest.status.in_(ledger_rules.COVERING_STATUSES),
            LeaveRequest.end_date < end,
            or_(
                LeaveRequest.returned_on.is_(None), LeaveRequest.returned_on > LeaveRequest.end_date
            ),
        )
    )
    out: dict[int, list[Violation]] = {}
    for member_id in candidates:
        spans = ledger_service.overstays(session, policy, member_id, start, end)
        if spans:
            out[member_id] = [
                Violation(
                    "leave_overstay",
                    None,
                    s.start,
                    s.end,
                    f"stayed away {(s.end - s.start).days + 1} day(s) after leave #{s.leave_id} "
                    "ended, without reporting back (超假)",
                )
                for s in spans
            ]
    return out


# Each source is called once per request with every member it concerns.
# The supervision domain plugs in here: its `findings.findings_for_members`.
SOURCES: tuple[Source, ...] = (suspicious_checkins, leave_overstays)


def from_sources(
    session: Session, policy: Policy, member_ids: Sequence[int], start: date, end: date
) -> dict[int, list[Violation]]:
    out: dict[int, list[Violation]] = {}
    for source in SOURCES:
        for member_id, findings in source(session, policy, member_ids, start, end).items():
            out.setdefault(member_id, []).extend(Violation.of(f) for f in findings)
    return out


def from_line(policy: Policy, period: rules.Period, line: str, today: date) -> list[Violation]:
    """What one member's day line shows: absences without leave, long runs, short visits."""
    out = []
    n = policy.compliance.absent_run_days
    for run in rules.absent_runs(period, line, today):
        one = run.start == run.end
        out.append(
            Violation(
                "absent_without_leave",
                run.start if one else None,
                None if one else run.start,
                None if one else run.end,
                f"absent without leave on {run.workdays} working day(s) (无故缺勤)",
            )
        )
        if run.workdays >= n:
            out.append(
                Violation(
                    "absent_run",
                    None,
                    run.start,
                    run.end,
                    f"{run.workdays} consecutive working days absent without leave, "
                    f"{n} or more make a run (长期不在村)",
                )
            )
    short = rules.short_visits(period, line, today, policy.compliance)
    if short is not None:
        out.append(
            Violation(
                "short_visits",
                None,
                short.start,
                short.end,
                f"{short.days} day(s) with check-ins that never made a day "
                f"(fewer than {policy.day_rule.min_checkins} counted fixes "
                f"{policy.day_rule.min_span_hours:g} h apart), against {short.present_days} "
                "credited day(s) (走读作秀)",
            )
        )
    return out


def from_rotation(found: rules.Rotation, names: Mapping[int, str], village_code: str) -> Violation:
    turns = "; ".join(
        f"week of {monday.isoformat()} (ISO {monday.isocalendar().year}-W"
        f"{monday.isocalendar().week:02d}): {names.get(m, str(m))}"
        for monday, m in found.weeks
    )
    team = ", ".join(names.get(m, str(m)) for m in found.members)
    first = found.weeks[0][0]
    last = found.weeks[-1][0]
    return Violation(
        "rotation",
        None,
        first,
        last + timedelta(days=6),
        f"the team of village {village_code} ({team}) took turns (轮着来): {turns}",
    )
