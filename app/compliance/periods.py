"""A member's period: which periods a request may name, and the facts of each member over one —
their day line and every violation — from which the rules judge them.

Every answer goes through `gather`: the members concerned and their teammates are read from
the ledger (`reading`), each member's line is judged by the pure rules (`rules`), and the
violations are gathered from the three places they are seen: the member's own line, the
village team's lines (rotation) and the other records (`sources`). One member or ten thousand:
the same queries, the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.compliance import day_lines, reading, rules, sources, violations
from app.compliance.errors import InvalidPeriod
from app.compliance.violations import Violation
from app.core.policy import Policy, QuotaRule
from app.ledger import calendar
from app.org.models import Member, Unit


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
    every violation; teammates are read for rotation but not returned. `counts_only` (a whole
    city's list) counts the day line's violations without building them."""
    loaded = reading.load(session, policy, members, span, within)
    out: dict[int, MemberFacts] = {}
    # 1. Each member's own day line: absences, runs, short visits.
    for member_id, (name, unit, is_wanted) in loaded.people.items():
        if is_wanted:
            line = loaded.lines[member_id]
            facts = MemberFacts(member_id, name, unit, loaded.villages[member_id], line)
            if counts_only:
                facts.line_counts = violations.line_counts(policy, span, line, today)
            else:
                facts.violations = violations.from_line(policy, span, line, today)
            out[member_id] = facts
    # 2. The village teams' lines: rotation, on every member of the team asked for.
    names = {m: p[0] for m, p in loaded.people.items()}
    for village, found in violations.rotations(policy, loaded, span, today):
        violation = violations.from_rotation(found, names, village)
        for member_id in found.members:
            if member_id in out:
                out[member_id].violations.append(violation)
    # 3. The other records, each source called once with every member.
    found_elsewhere = sources.from_sources(session, policy, sorted(out), span.start, span.end)
    for member_id, found_there in found_elsewhere.items():
        if member_id in out:
            out[member_id].violations.extend(found_there)
    for facts in out.values():
        facts.violations.sort(key=lambda v: v.order)
    return out


def member_facts(
    session: Session,
    policy: Policy,
    member: Member,
    period: rules.Period,
    today: date,
    within: str = "",
) -> MemberFacts:
    """One member's facts over `period` (an unassigned line when never assigned in it)."""
    found = gather(session, policy, Member.id == member.id, period, today, within=within)
    if member.id in found:
        return found[member.id]
    unit = session.scalar(select(Unit.name).where(Unit.id == member.unit_id)) or ""
    return MemberFacts(member.id, member.full_name, unit, None, day_lines.UNASSIGNED * period.days)


# --- judging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarInfo:
    source: calendar.Source
    fallback_years: list[int]


def calendar_info(period: rules.Period) -> CalendarInfo:
    source, fallback = calendar.source_of([period.start, period.end])
    return CalendarInfo(source, fallback)


@dataclass(frozen=True)
class Judged:
    """One member against one rule over one period."""

    member_id: int
    period: rules.Period
    rule: QuotaRule
    result: rules.QuotaResult
    violations: list[Violation]
    calendar: CalendarInfo


def judge(facts: MemberFacts, rule: QuotaRule, period: rules.Period, today: date) -> Judged:
    return Judged(
        facts.member_id,
        period,
        rule,
        rules.evaluate(rule, period, facts.line, today),
        facts.violations,
        calendar_info(period),
    )


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
    return judge(facts, rule, period, today)


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
            out.append(judge(facts, rule, sub, today))
    return out
