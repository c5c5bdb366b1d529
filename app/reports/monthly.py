"""The monthly attendance bulletin (每月考勤通报): per county and township, the month's
members, days, on-post rate, absences without leave, leave and overstays (超假), events reported
late (大事迟报), rectifications still open (未整改) and complaints and suggestions (投诉建议,
with those unanswered past their due date); then the named list of members below
pace in the current quota period (app.compliance)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.compliance import rules as compliance_rules
from app.compliance import scope_list
from app.core.policy import Policy
from app.core.time import as_utc
from app.leave.models import LeaveRequest
from app.ledger import rules as ledger_rules
from app.ledger import service as ledger_service
from app.org.division_names import DivisionNames
from app.privacy.models import Feedback
from app.reports import compliance_report, presence
from app.reports.columns import Column
from app.reports.export import Render, Row, Table
from app.reports.scope import ReportScope
from app.supervision import rules as supervision_rules
from app.supervision.models import EventReport, Rectification

DIVISION_COLUMNS = (
    Column("level", "层级", "code", 8, {"county": "县区", "township": "乡镇"}),
    Column("code", "区划代码", "code", 12),
    Column("name", "名称", "text", 12, nullable=True),
    Column("members", "派驻人数", "int", 10),
    Column("assigned_days", "在派人天", "int", 10),
    Column("present_days", "在村人天", "int", 10),
    Column("on_post_rate", "在岗率", "percent", 10, nullable=True),
    Column("absent_workdays", "无假缺勤（工作日）", "int", 18),
    Column("leave_days", "请假人天", "int", 10),
    Column("overstay_days", "超假人天", "int", 10),
    Column("late_events", "大事迟报（件）", "int", 14),
    Column("open_rectifications", "未整改（项）", "int", 12),
    Column("feedback", "投诉建议（件）", "int", 12),
    Column("feedback_overdue", "逾期未答复（件）", "int", 14),
)
BELOW_PACE = ("missed", "unattainable", "at_risk")
BELOW_PACE_COLUMNS = compliance_report.COLUMNS[:12]


@dataclass
class _Tally:
    members: set[int] = field(default_factory=set)
    assigned: int = 0
    present: int = 0
    absent: int = 0
    leave: int = 0
    overstay: int = 0
    late_events: int = 0
    open_rectifications: int = 0
    feedback: int = 0
    feedback_overdue: int = 0


def tables(
    session: Session,
    policy: Policy,
    principal: Principal,
    where: ReportScope,
    month: compliance_rules.Period,
    today: date,
    fmt: Any,
) -> list[Table]:
    last = min(month.end, today - timedelta(days=1))  # days that are over
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    village_of: dict[int, str] = {}
    if last >= month.start:
        raw = Render(presence.COLUMNS, "json")
        for row in presence.rows(session, policy, where, month.start, last, today, raw):
            member_id, village, workday, status = row[0], row[4], row[9], row[10]
            village_of[member_id] = village
            for key in (("county", village[:6]), ("township", village[:9])):
                t = tallies[key]
                t.members.add(member_id)
                t.assigned += 1
                t.present += status == "present"
                t.leave += status == "leave"
                t.absent += status == "absent" and workday
        for member_id, days in _overstay_days(session, policy, village_of, month, last, today):
            village = village_of[member_id]
            for key in (("county", village[:6]), ("township", village[:9])):
                tallies[key].overstay += days
        for village in _late_events(session, policy, set(village_of), month.start, last):
            for key in (("county", village[:6]), ("township", village[:9])):
                tallies[key].late_events += 1
        for village in _open_rectifications(session, village_of, month.end):
            for key in (("county", village[:6]), ("township", village[:9])):
                tallies[key].open_rectifications += 1
        for village, overdue in _feedback(session, policy, set(village_of.values()), month, today):
            for key in (("county", village[:6]), ("township", village[:9])):
                tallies[key].feedback += 1
                tallies[key].feedback_overdue += overdue
    render = Render(DIVISION_COLUMNS, fmt)
    names = DivisionNames(policy)
    divisions = [
        render.part(
            0,
            (
                level,
                code,
                names.name(code),
                len(t.members),
                t.assigned,
                t.present,
                round(t.present / t.assigned, 4) if t.assigned else None,
                t.absent,
                t.leave,
                t.overstay,
                t.late_events,
                t.open_rectifications,
                t.feedback,
                t.feedback_overdue,
            ),
        )
        for (level, code), t in sorted(tallies.items(), key=lambda kv: (kv[0][1], kv[0][0]))
    ]
    return [
        Table("divisions", "县乡汇总", DIVISION_COLUMNS, divisions),
        Table(
            "below_pace",
            "进度落后名单",
            BELOW_PACE_COLUMNS,
            _below_pace(session, policy, principal, where, month, today, fmt),
        ),
    ]


def _late_events(
    session: Session, policy: Policy, members: set[int], start: date, last: date
) -> list[str]:
    """The village of each event of the bulletin's members that occurred in the month and was
    reported late (supervision's rule), one entry per event. Only the bulletin's own members:
    a unit user's bulletin counts nobody else's events."""
    zone = policy.zone
    # In UTC: SQLite compares the stored UTC text, and would read a +08:00 bound as UTC.
    begin = datetime.combine(start, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    rows = session.execute(
        select(EventReport.member_id, EventReport.village_code, EventReport.occurred_at,
               EventReport.reported_at)
        .where(EventReport.occurred_at >= begin, EventReport.occurred_at < end)
    )  # fmt: skip
    return [
        village
        for member_id, village, occurred, reported in rows
        if member_id in members
        and supervision_rules.is_late_report(as_utc(occurred), as_utc(reported), policy.supervision)
    ]


def _feedback(
    session: Session,
    policy: Policy,
    villages: set[str],
    month: compliance_rules.Period,
    today: date,
) -> list[tuple[str, bool]]:
    """(village, overdue) of each complaint or suggestion (投诉建议) filed in the month from one
    of the bulletin's villages; overdue: still unanswered past its due date."""
    begin = datetime.combine(month.start, time(), policy.zone).astimezone(UTC)
    end = datetime.combine(month.end + timedelta(days=1), time(), policy.zone).astimezone(UTC)
    rows = session.execute(
        select(Feedback.division_code, Feedback.due_date, Feedback.replied_at).where(
            Feedback.created_at >= begin, Feedback.created_at < end
        )
    )
    return [
        (code, replied is None and today > due) for code, due, replied in rows if code in villages
    ]


def _open_rectifications(session: Session, village_of: dict[int, str], last: date) -> list[str]:
    """The village of each rectification of the bulletin's members opened by the month's last
    day and still open now, one entry per item."""
    rows = session.execute(
        select(Rectification.member_id, Rectification.village_code).where(
            Rectification.status == "open", Rectification.opened_on <= last
        )
    )
    return [
        village or village_of[member_id] for member_id, village in rows if member_id in village_of
    ]


def _overstay_days(
    session: Session,
    policy: Policy,
    village_of: dict[int, str],
    month: compliance_rules.Period,
    last: date,
    today: date,
) -> list[tuple[int, int]]:
    """(member, overstay days within the month) for the members of the bulletin with leave
    that ended before its last day (only they can overstay)."""
    if not village_of:
        return []
    candidates = session.scalars(
        select(LeaveRequest.member_id)
        .where(
            LeaveRequest.member_id.in_(list(village_of)),
            or_(*(LeaveRequest.status == s for s in ledger_rules.COVERING_STATUSES)),
            LeaveRequest.end_date < last,
        )
        .distinct()
    ).all()
    out = []
    for member_id in candidates:
        spans = ledger_service.overstays(session, policy, member_id, month.start, last, today=today)
        days = sum((s.end - s.start).days + 1 for s in spans)
        if days:
            out.append((member_id, days))
    return out


def _below_pace(
    session: Session,
    policy: Policy,
    principal: Principal,
    where: ReportScope,
    month: compliance_rules.Period,
    today: date,
    fmt: Any,
) -> list[Row]:
    """Members below pace in the first quota rule's period holding the month's last day that
    is not in the future."""
    kind = policy.quota.rules[0].period
    span = compliance_rules.period_of(kind, min(month.end, today))
    members = scope_list.scope_filter(session, principal, where.prefix or None, where.unit, span)
    render = Render(BELOW_PACE_COLUMNS, fmt)
    place = compliance_report.Places(session, policy)
    return [
        render.part(
            0,
            (
                r.member_id,
                r.full_name,
                r.unit,
                r.village_code,
                *place.names(r.village_code),
                span.label,
                r.status,
                r.required_days,
                r.present_days,
                r.needed_days,
            ),
        )
        for r in scope_list.scope_rows(session, policy, members, span, today)
        if r.status in BELOW_PACE
    ]
