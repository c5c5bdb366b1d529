"""A wave's results: per village, the answers, the rates with and without the excluded
answers, and every anomaly; per member, the rates of the villages they served in during the
wave. One read of the wave's answers (ten thousand rows for a county), then pure rules."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.core.policy import Policy, SurveyQuestion
from app.core.time import as_utc, local_date
from app.org.models import Assignment, Member, Village
from app.surveys import rules, waves
from app.surveys.models import Survey, SurveyAnswer, SurveyCode, SurveyExclusion


@dataclass
class VillageTally:
    village_code: str
    village_name: str
    codes: int
    tally: rules.Tally
    excluded_ids: list[int]
    anomalies: list[rules.Anomaly]
    exclusions: list[tuple[int, str, datetime]]  # (answer id, reason, when)


@dataclass
class MemberTally:
    member_id: int
    full_name: str
    village_codes: list[str]
    tally: rules.Tally = field(default_factory=rules.Tally)


@dataclass
class Results:
    survey: Survey
    villages: list[VillageTally]
    members: list[MemberTally]


def wave_span(policy: Policy, survey: Survey) -> tuple[date, date]:
    return local_date(survey.opens_at, policy.zone), local_date(survey.closes_at, policy.zone)


def results(session: Session, policy: Policy, survey: Survey, prefix: str) -> Results:
    """The wave's results over its villages under `prefix`."""
    questions = waves.questions_of(survey)
    codes = dict(
        session.execute(
            select(SurveyCode.village_code, func.count())
            .where(SurveyCode.survey_id == survey.id, SurveyCode.village_code.startswith(prefix))
            .group_by(SurveyCode.village_code)
        ).all()
    )
    names = (
        dict(
            session.execute(
                select(Village.code, Village.name).where(Village.code.in_(list(codes)))
            ).all()
        )
        if codes
        else {}
    )
    facts: dict[str, list[rules.AnswerFact]] = defaultdict(list)
    vectors: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    excluded: dict[str, list[int]] = defaultdict(list)
    why: dict[str, list[tuple[int, str, datetime]]] = defaultdict(list)
    zone = policy.zone
    rows = session.execute(
        select(
            SurveyAnswer.id,
            SurveyAnswer.village_code,
            SurveyAnswer.answered_at,
            SurveyAnswer.vector,
            SurveyAnswer.device,
            SurveyExclusion.answer_id,
            SurveyExclusion.reason,
            SurveyExclusion.excluded_at,
        )
        .outerjoin(SurveyExclusion, SurveyExclusion.answer_id == SurveyAnswer.id)
        .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.village_code.startswith(prefix))
        .order_by(SurveyAnswer.id)
    )
    for answer_id, village, at, vector, device, excluded_id, reason, excluded_at in rows:
        at = as_utc(at)
        facts[village].append(
            rules.AnswerFact(answer_id, at, at.astimezone(zone).hour, vector, device)
        )
        vectors[village].append((vector, excluded_id is not None))
        if excluded_id is not None:
            excluded[village].append(answer_id)
            why[village].append((answer_id, reason, as_utc(excluded_at)))
    villages = [
        VillageTally(
            code,
            names.get(code, ""),
            codes[code],
            rules.tally(questions, vectors[code]),
            excluded[code],
            rules.anomalies(facts[code], policy.surveys),
            why[code],
        )
        for code in sorted(codes)
    ]
    return Results(survey, villages, _members(session, policy, survey, villages))


def _members(
    session: Session, policy: Policy, survey: Survey, villages: list[VillageTally]
) -> list[MemberTally]:
    """Members assigned to any of the villages on a day of the wave, with those villages'
    answers pooled (a village's answers count once for each member of its team)."""
    if not villages:
        return []
    first, last = wave_span(policy, survey)
    by_code = {v.village_code: v for v in villages}
    out: dict[int, MemberTally] = {}
    rows = session.execute(
        select(Assignment.member_id, Member.full_name, Assignment.village_code)
        .join(Member, Member.id == Assignment.member_id)
        .where(
            Assignment.village_code.in_(list(by_code)),
            Assignment.start_date <= last,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first),
        )
        .order_by(Assignment.member_id, Assignment.village_code)
    )
    for member_id, full_name, village in rows:
        member = out.setdefault(member_id, MemberTally(member_id, full_name, []))
        if village not in member.village_codes:
            member.village_codes.append(village)
            member.tally.add(by_code[village].tally)
    return [out[m] for m in sorted(out)]


def member_tally(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> rules.Tally:
    """What villagers said about one member in waves over `first`..`last`: the answers of
    every wave open in that span, given in the villages the member served during that wave
    (excluded answers left out of the rates, as everywhere)."""
    out = rules.Tally()
    assignments = session.execute(
        select(Assignment.village_code, Assignment.start_date, Assignment.end_date).where(
            Assignment.member_id == member_id,
            Assignment.start_date <= last,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first),
        )
    ).all()
    if not assignments:
        return out
    villages = sorted({a[0] for a in assignments})
    candidates = session.scalars(
        select(Survey)
        .join(SurveyCode, SurveyCode.survey_id == Survey.id)
        .where(SurveyCode.village_code.in_(villages))
        .distinct()
    ).all()
    for survey in candidates:
        lo, hi = wave_span(policy, survey)
        if hi < first or lo > last:
            continue
        served = sorted(
            {code for code, start, end in assignments if start <= hi and (end is None or end >= lo)}
        )
        if not served:
            continue
        questions: list[SurveyQuestion] = waves.questions_of(survey)
        rows = session.execute(
            select(SurveyAnswer.vector, SurveyExclusion.answer_id)
            .outerjoin(SurveyExclusion, SurveyExclusion.answer_id == SurveyAnswer.id)
            .where(and_(SurveyAnswer.survey_id == survey.id, SurveyAnswer.village_code.in_(served)))
        )
        out.add(
            rules.tally(
                questions,
                ((vector, ex is not None) for vector, ex in rows),
            )
        )
    return out
