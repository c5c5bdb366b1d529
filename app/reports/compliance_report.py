"""The compliance report: one row per member for a period, the compliance answer flattened
with violations counted by code (computed by app.compliance)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.compliance import periods as compliance_periods
from app.compliance import rules as compliance_rules
from app.compliance import scope_list
from app.core.policy import Policy
from app.households import findings as household_findings
from app.org.division_names import DivisionNames
from app.org.models import Village
from app.reports.columns import Column
from app.reports.export import Render, Row
from app.reports.scope import ReportScope

STATUS_LABELS = {
    "met": "已达标",
    "on_track": "进度正常",
    "at_risk": "进度落后",
    "unattainable": "无法达标",
    "missed": "未达标",
}
# Violations are counted in entries (次): a run of absence is one entry, whatever its length;
# the days absent are `absent_workdays`, beside them (API.md "Absences, settled").
VIOLATION_COLUMNS = (
    ("absent_without_leave", "无假缺勤（次）"),
    ("absent_run", "连续缺勤（次）"),
    ("leave_overstay", "超假（次）"),
    ("short_visits", "短时到村（次）"),
    ("rotation", "轮流驻村（次）"),
    ("suspicious_checkins", "可疑打卡（次）"),
    ("missed_roll_call", "未应点名（次）"),
    ("inspection_discrepancy", "暗访不符（次）"),
    ("late_event_report", "迟报大事（次）"),
    ("households_overdue", "入户逾期（次）"),
    ("visit_denied", "农户否认走访（次）"),
    ("unknown_to_household", "农户不认识（次）"),
)
_KNOWN = {code for code, _ in VIOLATION_COLUMNS}
# Widths keep the 24 columns on one printed A4 width at a readable size (headers wrap).
COLUMNS = (
    Column("member_id", "队员编号", "int", 6),
    Column("full_name", "姓名", "text", 8),
    Column("unit", "派驻单位", "text", 14),
    Column("village_code", "村编码", "code", 13, nullable=True),
    # Names beside the code, for the people who read the printed list.
    Column("village_name", "村名", "text", 8, nullable=True),
    Column("township_name", "乡镇", "text", 8, nullable=True),
    Column("county_name", "县区", "text", 7, nullable=True),
    Column("period", "考核期", "code", 8),
    Column("status", "状态", "code", 8, STATUS_LABELS),
    Column("required_days", "应驻天数", "int", 5),
    Column("present_days", "在村天数", "int", 5),
    Column("needed_days", "尚需天数", "int", 5),
    Column("absent_workdays", "无假缺勤（工作日）", "int", 7),
    *(Column(code, label, "int", 6) for code, label in VIOLATION_COLUMNS),
    Column("other_violations", "其他违规（次）", "int", 6),
    # The annual evaluation's rates over the period (null where there is nothing to rate).
    Column("residence_rate", "住村率", "percent", 6, nullable=True),
    Column("visits_rate", "入户率", "percent", 6, nullable=True),
    Column("satisfaction_rate", "满意度", "percent", 6, nullable=True),
    Column("known_rate", "认识度", "percent", 6, nullable=True),
)


def period(policy: Policy, text: str) -> compliance_rules.Period:
    """The period `text` names (a configured rule's period; else 422 invalid_period)."""
    return compliance_periods.period_for(policy, text)


def rows(
    session: Session,
    policy: Policy,
    principal: Principal,
    where: ReportScope,
    span: compliance_rules.Period,
    today: date,
    render: Render,
    after: tuple[int, int, int] | None = None,
) -> Iterator[Row]:
    """Members assigned in the period under the scope, worst first (the compliance list's
    order), after `after` (a page's cursor)."""
    members = scope_list.scope_filter(session, principal, where.prefix or None, where.unit, span)
    place = Places(session, policy)
    listed = [
        row
        for row in scope_list.scope_rows(session, policy, members, span, today)
        if after is None or row.order > after
    ]
    rates = household_findings.period_rates(
        session, policy, [r.member_id for r in listed], span.start, span.end
    )
    for row in listed:
        rated = rates[row.member_id]
        residence = (
            None
            if row.required_days <= 0
            else round(min(1.0, row.present_days / row.required_days), 4)
        )
        counts: Sequence[int] = [row.violations.get(code, 0) for code, _ in VIOLATION_COLUMNS]
        other = sum(n for code, n in row.violations.items() if code not in _KNOWN)
        yield render.part(
            0,
            (
                row.member_id,
                row.full_name,
                row.unit,
                row.village_code,
                *place.names(row.village_code),
                span.label,
                row.status,
                row.required_days,
                row.present_days,
                row.needed_days,
                row.absent_workdays,
                *counts,
                other,
                residence,
                rated.visits,
                rated.satisfaction,
                rated.known,
            ),
        )


STATUS_AT = next(i for i, c in enumerate(COLUMNS) if c.key == "status")
NEEDED_AT = next(i for i, c in enumerate(COLUMNS) if c.key == "needed_days")


def order_of(row: Row) -> tuple[int, int, int]:
    """A rendered row's place in the worst-first order (for the next page's cursor)."""
    status = next(k for k, v in STATUS_LABELS.items() if row[STATUS_AT] in (k, v))
    return (compliance_rules.STATUS_ORDER.index(status), -int(row[NEEDED_AT]), int(row[0]))


class Places:
    """A village code's village, township and county names (each None when unknown)."""

    def __init__(self, session: Session, policy: Policy) -> None:
        self.session = session
        self.divisions = DivisionNames(policy)
        self._villages: dict[str, str] = {}

    def names(self, village_code: str | None) -> tuple[str | None, str | None, str | None]:
        if not village_code:
            return (None, None, None)
        if village_code not in self._villages:
            name = self.session.scalar(select(Village.name).where(Village.code == village_code))
            self._villages[village_code] = name or ""
        return (
            self._villages[village_code] or None,
            self.divisions.township(village_code),
            self.divisions.county(village_code),
        )
