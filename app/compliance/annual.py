"""The annual evaluation (年考) of one member: each quarter, every rule's periods, the year's
leave and violations, and the supervision records of the year. The whole answer is put
together here (`annual`); the router only shapes it. What the year adds from other domains
(supervision; the households' record and the four rates with their grade hint; what
villagers said, `voice`, source by source) joins `Annual` beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.compliance import periods, rules, voice
from app.compliance.periods import Judged
from app.compliance.violations import Violation
from app.core.policy import Policy, QuotaRule
from app.households import findings as household_findings
from app.households import rules as household_rules
from app.households.findings import AnnualHouseholds
from app.org.models import Member
from app.supervision import findings as supervision_findings
from app.supervision.findings import AnnualSupervision


@dataclass(frozen=True)
class Annual:
    member_id: int
    year: int
    quarters: list[Judged]  # against the quarter rule (none without one)
    periods: list[Judged]  # every rule over each of its periods in the year
    leave_days: int
    violations: list[Violation]
    supervision: AnnualSupervision  # roll calls, event reports, rectifications
    households: AnnualHouseholds  # paired households, visits on time, the households' answers
    rates: Rates  # 住村率, 入户率, 满意度, 认识度
    grade_hint: str  # excellent_eligible | ordinary | referral
    voice: list[voice.VoiceCount]  # satisfaction and known, each source counted apart


@dataclass(frozen=True)
class Rates:
    residence: float | None  # credited days ÷ required days, capped at 1
    visits: float | None
    satisfaction: float | None
    known: float | None


def annual(
    session: Session, policy: Policy, member: Member, year: int, today: date, within: str = ""
) -> Annual:
    """The member's year, over the days assigned under `within`."""
    span = rules.parse_period(f"{year:04d}")
    assert span is not None
    facts = periods.member_facts(session, policy, member, span, today, within)
    whole = rules.evaluate(QuotaRule(period="year", days=0), span, facts.line, today)
    judged = periods.member_rules(session, policy, member, span, today, within)
    households = household_findings.annual_households(session, policy, member.id, year)
    # 满意度 and 认识度 pool every source villagers answered (surveys, countersigns, call-backs).
    heard = voice.voice(session, policy, member.id, span.start, span.end)
    satisfaction, known = voice.pooled(heard)
    rates = Rates(
        residence=_residence(policy, judged),
        visits=households.visited_on_time_rate,
        satisfaction=satisfaction,
        known=known,
    )
    return Annual(
        member.id,
        year,
        _quarters(session, policy, member, span, today, within),
        judged,
        whole.leave_days,
        facts.violations,
        supervision_findings.annual_supervision(session, policy, member.id, year),
        households,
        rates,
        household_rules.grade_hint(
            [rates.residence, rates.visits, rates.satisfaction, rates.known], policy.evaluation
        ),
        heard,
    )


def _residence(policy: Policy, judged: list[Judged]) -> float | None:
    """住村率: credited days over required days of the first rule's periods, capped at 1."""
    rule = policy.quota.rules[0]
    mine = [j for j in judged if j.rule == rule]
    required = sum(j.result.required_days for j in mine)
    credited = sum(j.result.credited_days for j in mine)
    if required <= 0:
        return None
    return round(min(1.0, credited / required), 4)


def _quarters(
    session: Session,
    policy: Policy,
    member: Member,
    year: rules.Period,
    today: date,
    within: str,
) -> list[Judged]:
    """Each quarter against the quarter rule; without one there are no quarter results
    (`periods` holds every rule's)."""
    rule = policy.quota.rule_for("quarter")
    if rule is None:
        return []
    out = []
    for quarter in rules.periods_within("quarter", year):
        facts = periods.member_facts(session, policy, member, quarter, today, within)
        out.append(periods.judge(facts, rule, quarter, today))
    return out
