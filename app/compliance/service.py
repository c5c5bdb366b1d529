"""Compliance read from the presence ledger: one member, a whole scope, the annual evaluation.

Every answer goes through one path: the members concerned and their teammates (the other
members of the villages they serve in, for rotation) are loaded with one assignments query and
one aggregate over the ledger, each member's period becomes a day line (rules.day_line), and the
pure rules judge the lines. One member or ten thousand: the same queries, the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.compliance import rules, violations
from app.compliance.errors import InvalidPeriod
from app.compliance.violations import Violation
from app.core.policy import Policy, QuotaRule
from app.leave.models import LeaveRequest
from app.ledger import calendar
from app.ledger import rules as ledger_rules
from app.ledger.models import PresenceDay
from app.org import service as org_service
from app.org.errors import ScopeNotFound
from app.org.models import Assignment, Member, Unit
from app.supervision import findings as supervision_findings
from app.supervision.findings import AnnualSupervision


def period_for(policy: Policy, text: str, *, kinds: Sequence[str] | None = None) -> rules.Period:
    """The period `text` names, which must be the period of a configured rule."""
    allowed = kinds or [r.period for r in policy.quota.rules]
    period = rules.parse_period(text)
    if period is None or period.kind not in allowed:
        raise InvalidPeriod(period=text, allowed=", ".join(allowed))
    return period


@dataclass
class MemberFacts:
    """What one member's compliance over a span is judged from."""

    member_id: int
    full_name: str
    unit: str
    village_code: str | None  # the last village served in the span
    line: str
    violations: list[Violation] = field(default_factory=list)
    # With gather(counts_only=True): the day line's own violations, counted by code (the
    # others are in `violations`).
    line_counts: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = dict(self.line_counts)
        for v in self.violations:
            out[v.code] = out.get(v.code, 0) + 1
        return out


@dataclass(frozen=True)
class CalendarInfo:
    source: calendar.Source
    fallback_years: list[int]


@dataclass(frozen=True)
class Judged:
    """One member against one rule over one period."""

    member_id: int
    period: rules.Period
    rule: QuotaRule
    result: rules.QuotaResult
    violations: list[Violation]
    calendar: CalendarInfo


def workdays(policy: Policy, period: rules.Period) -> list[date]:
    return [d for d in _days(period.start, period.end) if calendar.is_workday(d, policy.calendar)]


def calendar_info(period: rules.Period) -> CalendarInfo:
    source, fallback = calendar.source_of([period.start, period.end])
    return CalendarInfo(source, fallback)


# --- loading ---------------------------------------------------------------------------------


@dataclass
class Loaded:
    """Day lines over a span: each member's, and each village team's (a line per member, U
    where the member was not assigned to that village)."""

    people: dict[int, tuple[str, str, bool]]  # member → (name, unit, asked for)
    villages: dict[int, str]  # member → the last village served in the span
    lines: dict[int, str]
    teams: dict[str, dict[int, str]]


def load(
    session: Session,
    policy: Policy,
    members: ColumnElement[bool],
    span: rules.Period,
    within: str = "",
) -> Loaded:
    """Day lines of the members matched by `members` (a filter on `Member`) who were assigned in
    `span`, and of their teammates (for rotation): one assignments query, one ledger aggregate.

    `within` (a division prefix; "" for all) keeps a member's own line to the days assigned
    under it: a township sees a member who moved in or out for its own days only, judged
    like a member assigned for part of the period (README "Who sees what")."""
    overlaps = and_(
        Assignment.start_date <= span.end,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= span.start),
    )
    wanted = select(Member.id).where(members)
    villages = select(Assignment.village_code).where(overlaps, Assignment.member_id.in_(wanted))
    team = select(Assignment.member_id).where(overlaps, Assignment.village_code.in_(villages))
    # Core rows (ten thousand of them for a city): no ORM processing needed.
    rows = (
        session.connection()
        .execute(
            select(
                Assignment.member_id,
                Assignment.village_code,
                Assignment.start_date,
                Assignment.end_date,
                Member.full_name,
                Unit.name,
                Member.id.in_(wanted),
            )
            .join(Member, Member.id == Assignment.member_id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(overlaps, Assignment.member_id.in_(team))
            .order_by(Assignment.member_id, Assignment.start_date)
        )
        .all()
    )
    loaded = Loaded({}, {}, {}, {})
    if not rows:
        return loaded
    marks = _marks(session, team, span)
    # Official business is read only when someone had leave at all (most often, no one).
    on_leave = any(rules.LEAVE_CODE in m for m in marks.values())
    official = _official_leave(session, team, span) if on_leave else {}
    base = rules.base_line(span, workdays(policy, span))
    segments: dict[int, list[tuple[date, date, str]]] = {}
    for member_id, village, lo, hi, name, unit, is_wanted in rows:
        segments.setdefault(member_id, []).append((lo, hi or span.end, village))
        loaded.people[member_id] = (name, unit, bool(is_wanted))
    for member_id, spans in segments.items():
        mine = marks.get(member_id, b"")
        away = official.get(member_id, ())
        seen = [s for s in spans if s[2].startswith(within)] or spans
        loaded.villages[member_id] = seen[-1][2]
        line = rules.day_line(span, base, [s[:2] for s in seen], mine, away)
        loaded.lines[member_id] = line
        if len(spans) == 1:
            loaded.teams.setdefault(spans[0][2], {})[member_id] = line
            continue
        for lo, hi, village in spans:
            part = rules.day_line(span, base, [(lo, hi)], mine, away)
            team_lines = loaded.teams.setdefault(village, {})
            team_lines[member_id] = _merge(team_lines.get(member_id), part)
    return loaded


def rotations(
    policy: Policy, loaded: Loaded, span: rules.Period, today: date
) -> list[tuple[str, rules.Rotation]]:
    """Every team of the loaded villages that took turns (轮着来) in the span."""
    out = []
    for village, team_lines in sorted(loaded.teams.items()):
        if len(team_lines) < 2 or not any(loaded.people[m][2] for m in team_lines):
            continue
        found = rules.rotation(span, team_lines, today, policy.compliance.rotation)
        if found is not None:
            out.append((village, found))
    return out


def gather(
    session: Session,
    policy: Policy,
    members: ColumnElement[bool],
    span: rules.Period,
    today: date,
    *,
    counts_only: bool = False,
    within: str = "",
) -> dict[int, MemberFacts]:
    """Facts over `span` of the members matched by `members` who were assigned in it, with
    every violation; teammates are read for rotation but not returned."""
    loaded = load(session, policy, members, span, within)
    out: dict[int, MemberFacts] = {}
    for member_id, (name, unit, is_wanted) in loaded.people.items():
        if is_wanted:
            line = loaded.lines[member_id]
            facts = MemberFacts(member_id, name, unit, loaded.villages[member_id], line)
            if counts_only:
                facts.line_counts = violations.line_counts(policy, span, line, today)
            else:
                facts.violations = violations.from_line(policy, span, line, today)
            out[member_id] = facts
    names = {m: p[0] for m, p in loaded.people.items()}
    for village, found in rotations(policy, loaded, span, today):
        violation = violations.from_rotation(found, names, village)
        for member_id in found.members:
            if member_id in out:
                out[member_id].violations.append(violation)
    ids = sorted(out)
    for member_id, found_elsewhere in violations.from_sources(
        session, policy, ids, span.start, span.end
    ).items():
        if member_id in out:
            out[member_id].violations.extend(found_elsewhere)
    for facts in out.values():
        facts.violations.sort(key=_violation_order)
    return out


def _merge(a: str | None, b: str) -> str:
    """Two day lines of one member in one village (two assignments there): assigned wins."""
    if a is None:
        return b
    return "".join(y if x == rules.UNASSIGNED else x for x, y in zip(a, b, strict=True))


def _violation_order(v: Violation) -> tuple[date, str]:
    return (v.date or v.start or date.min, v.code)


def _marks(session: Session, members: Any, span: rules.Period) -> dict[int, bytes]:
    """Each member's ledger days in `span` (day_line's `marks`), one short row per member."""
    if session.get_bind().dialect.name == "postgresql":
        return _marks_postgresql(session, members, span)
    # Elsewhere, the days travel as numbers (day offset × 4 + kind) in one string per member.
    kind = case(
        (PresenceDay.present.is_(True), 0),
        (PresenceDay.leave_id.is_not(None), 1),
        else_=2,
    )
    offset = cast(func.julianday(PresenceDay.day) - func.julianday(span.start.isoformat()), Integer)
    rows = session.execute(
        select(PresenceDay.member_id, func.group_concat(offset * 4 + kind, ","))
        .where(PresenceDay.member_id.in_(members), PresenceDay.day.between(span.start, span.end))
        .group_by(PresenceDay.member_id)
    )
    kinds = ("P", "L", "S")
    return {
        member_id: bytes(
            rules.marks_from_days(
                span.days, ((c >> 2, kinds[c & 3]) for c in map(int, str(packed).split(",")))
            )
        )
        for member_id, packed in rows
    }


def _marks_postgresql(session: Session, members: Any, span: rules.Period) -> dict[int, bytes]:
    # One bit string per kind of day (bit i: day i), OR-ed together by the database.
    bit: ColumnElement[Any] = literal_column(f"B'1'::bit({span.days})")
    shifted = bit.op(">>")(PresenceDay.day - span.start)
    not_present = PresenceDay.present.is_(False)

    def kind(test: ColumnElement[bool]) -> Any:
        return type_coerce(func.bit_or(case((test, shifted))), String)

    rows = session.execute(
        select(
            PresenceDay.member_id,
            kind(PresenceDay.present.is_(True)),
            kind(and_(not_present, PresenceDay.leave_id.is_not(None))),
            kind(and_(not_present, PresenceDay.leave_id.is_(None))),
        )
        .where(PresenceDay.member_id.in_(members), PresenceDay.day.between(span.start, span.end))
        .group_by(PresenceDay.member_id)
    )
    return {m: bytes(rules.marks_from_bits(p or "", lv or "", sh or "")) for m, p, lv, sh in rows}


def _official_leave(
    session: Session, members: Any, span: rules.Period
) -> dict[int, list[tuple[date, date]]]:
    """The days of approved official business (公出) of the members, as covered leave spans."""
    rows = session.execute(
        select(
            LeaveRequest.member_id,
            LeaveRequest.start_date,
            LeaveRequest.end_date,
            LeaveRequest.returned_on,
        ).where(
            LeaveRequest.member_id.in_(members),
            LeaveRequest.type == "official",
            LeaveRequest.status.in_(ledger_rules.COVERING_STATUSES),
            LeaveRequest.start_date <= span.end,
            LeaveRequest.end_date >= span.start,
        )
    )
    out: dict[int, list[tuple[date, date]]] = {}
    for member_id, lo, hi, returned_on in rows:
        if returned_on is not None:
            hi = min(hi, returned_on - timedelta(days=1))
        out.setdefault(member_id, []).append((lo, hi))
    return out


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --- answers ---------------------------------------------------------------------------------


def judge(
    policy: Policy, facts: MemberFacts, rule: QuotaRule, period: rules.Period, today: date
) -> Judged:
    return Judged(
        facts.member_id,
        period,
        rule,
        rules.evaluate(rule, period, facts.line, today),
        facts.violations,
        calendar_info(period),
    )


def unassigned(member_id: int, name: str, unit: str, period: rules.Period) -> MemberFacts:
    return MemberFacts(member_id, name, unit, None, rules.UNASSIGNED * period.days)


def member_facts(
    session: Session,
    policy: Policy,
    member: Member,
    period: rules.Period,
    today: date,
    within: str = "",
) -> MemberFacts:
    found = gather(session, policy, Member.id == member.id, period, today, within=within)
    if member.id in found:
        return found[member.id]
    unit = session.scalar(select(Unit.name).where(Unit.id == member.unit_id)) or ""
    return unassigned(member.id, member.full_name, unit, period)


def member_compliance(
    session: Session,
    policy: Policy,
    member: Member,
    period: rules.Period,
    today: date,
    within: str = "",
) -> Judged:
    """The member against the rule of `period`'s kind (over the days under `within`)."""
    rule = policy.quota.rule_for(period.kind)
    assert rule is not None  # period_for only lets configured kinds through
    facts = member_facts(session, policy, member, period, today, within)
    return judge(policy, facts, rule, period, today)


def member_rules(
    session: Session,
    policy: Policy,
    member: Member,
    period: rules.Period,
    today: date,
    within: str = "",
) -> list[Judged]:
    """Every configured rule over the periods of its kind that overlap `period`."""
    out = []
    for rule in policy.quota.rules:
        for sub in rules.periods_within(rule.period, period):
            facts = member_facts(session, policy, member, sub, today, within)
            out.append(judge(policy, facts, rule, sub, today))
    return out


@dataclass(frozen=True)
class Row:
    member_id: int
    full_name: str
    unit: str
    village_code: str | None
    status: rules.Status
    required_days: int
    present_days: int
    needed_days: int
    violations: dict[str, int]

    @property
    def order(self) -> tuple[int, int, int]:
        return (rules.STATUS_ORDER.index(self.status), -self.needed_days, self.member_id)


def scope_filter(
    session: Session, principal: Principal, scope: str | None, unit: str | None, span: rules.Period
) -> ColumnElement[bool]:
    """Members the caller may see, narrowed to `scope` (a division prefix within the caller's)
    and `unit` (a dispatching unit's name; a unit user is held to their own)."""
    filters = [org_service.member_visibility(principal)]
    own = principal.division_prefix
    if scope and own is not None and not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    prefix = scope or own
    if prefix:
        # Served in the period in a village under the prefix (not merely ever assigned there).
        filters.append(
            Member.id.in_(
                select(Assignment.member_id).where(
                    Assignment.village_code.startswith(prefix),
                    Assignment.start_date <= span.end,
                    or_(Assignment.end_date.is_(None), Assignment.end_date >= span.start),
                )
            )
        )
    if unit is not None:
        if principal.role == "unit" and unit != principal.scope:
            raise ScopeNotFound(scope=unit)
        unit_id = session.scalar(select(Unit.id).where(Unit.name == unit))
        if unit_id is None:
            raise ScopeNotFound(scope=unit)
        filters.append(Member.unit_id == unit_id)
    return and_(*filters)


def scope_rows(
    session: Session,
    policy: Policy,
    members: ColumnElement[bool],
    period: rules.Period,
    today: date,
    within: str = "",
) -> list[Row]:
    """Every member of the scope assigned in the period, worst first (each judged over the
    days under `within`)."""
    rule = policy.quota.rule_for(period.kind)
    assert rule is not None
    out = []
    found = gather(session, policy, members, period, today, counts_only=True, within=within)
    for facts in found.values():
        result = rules.evaluate(rule, period, facts.line, today)
        counts = facts.counts()
        out.append(
            Row(
                facts.member_id,
                facts.full_name,
                facts.unit,
                facts.village_code,
                result.status,
                result.required_days,
                result.present_days,
                result.needed_days,
                counts,
            )
        )
    out.sort(key=lambda r: r.order)
    return out


@dataclass(frozen=True)
class Annual:
    member_id: int
    year: int
    quarters: list[Judged]
    periods: list[Judged]
    leave_days: int
    violations: list[Violation]


def annual(
    session: Session, policy: Policy, member: Member, year: int, today: date, within: str = ""
) -> Annual:
    """The year (年考): each quarter, every rule's periods, leave and the year's violations."""
    span = rules.parse_period(f"{year:04d}")
    assert span is not None
    facts = member_facts(session, policy, member, span, today, within)
    # Without a quarter rule there are no quarter results; `periods` holds every rule's.
    quarter_rule = policy.quota.rule_for("quarter")
    quarters = (
        []
        if quarter_rule is None
        else [
            judge(
                policy,
                member_facts(session, policy, member, q, today, within),
                quarter_rule,
                q,
                today,
            )
            for q in rules.periods_within("quarter", span)
        ]
    )
    periods = member_rules(session, policy, member, span, today, within)
    whole = rules.evaluate(QuotaRule(period="year", days=0), span, facts.line, today)
    return Annual(member.id, year, quarters, periods, whole.leave_days, facts.violations)


def annual_supervision(
    session: Session, policy: Policy, member_id: int, year: int
) -> AnnualSupervision:
    """The supervision side of the year: roll calls, event reports, rectifications."""
    return supervision_findings.annual_supervision(session, policy, member_id, year)
