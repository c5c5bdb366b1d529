"""The annual evaluation (年考) of one member: each quarter, every rule's periods, the year's
leave and violations, and the supervision records of the year. The whole answer is put
together here (`annual`); the router only shapes it. What the year adds from other domains
(supervision; what villagers said, `voice`, source by source) joins `Annual` beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.compliance import periods, rules, voice
from app.compliance.periods import Judged
from app.compliance.violations import Violation
from app.core.policy import Policy, QuotaRule
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
    voice: list[voice.VoiceCount]  # satisfaction and known, each source counted apart


def annual(
    session: Session, policy: Policy, member: Member, year: int, today: date, within: str = ""
) -> Annual:
    """The member's year, over the days assigned under `within`."""
    span = rules.parse_period(f"{year:04d}")
    assert span is not None
    facts = periods.member_facts(session, policy, member, span, today, within)
    whole = rules.evaluate(QuotaRule(period="year", days=0), span, facts.line, today)
    return Annual(
        member.id,
        year,
        _quarters(session, policy, member, span, today, within),
        periods.member_rules(session, policy, member, span, today, within),
        whole.leave_days,
        facts.violations,
        supervision_findings.annual_supervision(session, policy, member.id, year),
        voice.voice(session, policy, member.id, span.start, span.end),
    )


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
