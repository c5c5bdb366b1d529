"""Opening a wave and finding one: its questions, its villages and their codes.

A wave's codes are made when it opens, for every village under its scope: each the HMAC of
the wave, village and card number under the server's secret (`rules.derive_code`), stored only
as a keyed hash. Printing the sheet again derives the same codes from the stored rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.policy import Policy, SurveyQuestion
from app.core.time import as_utc
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound
from app.org.models import Village
from app.surveys import rules
from app.surveys.errors import (
    InvalidQuestions,
    InvalidSurveyWindow,
    NoVillages,
    SurveyNotFound,
)
from app.surveys.models import Survey, SurveyAnswer, SurveyCode
from app.surveys.schemas import QuestionOut, SurveyCreate, SurveyOut

OPENERS = ("county", "city")
READERS = ("county", "city", "auditor")
MAX_DAYS = 366
_CHUNK = 500


def questions_of(survey: Survey) -> list[SurveyQuestion]:
    return list(_questions_from(survey.questions))


@lru_cache(maxsize=256)
def _questions_from(stored: str) -> tuple[SurveyQuestion, ...]:
    return tuple(SurveyQuestion.model_validate(q) for q in json.loads(stored))


def status_of(survey: Survey, now: datetime) -> Literal["scheduled", "open", "closed"]:
    if now < as_utc(survey.opens_at):
        return "scheduled"
    return "open" if now <= as_utc(survey.closes_at) else "closed"


def own_prefix(principal: Principal, roles: tuple[str, ...]) -> str:
    prefix = principal.division_prefix
    if principal.role not in roles or prefix is None:
        raise RoleRequired(roles=", ".join(roles))
    return prefix


def open_wave(
    session: Session,
    policy: Policy,
    principal: Principal,
    body: SurveyCreate,
    secret: str,
    now: datetime,
) -> Survey:
    own = own_prefix(principal, OPENERS)
    if not is_prefix(body.scope):
        raise InvalidScope()
    if not body.scope.startswith(own):
        raise ScopeNotFound(scope=body.scope)
    if not (
        body.opens_at < body.closes_at
        and body.closes_at > now
        and body.closes_at - body.opens_at <= timedelta(days=MAX_DAYS)
    ):
        raise InvalidSurveyWindow(max_days=MAX_DAYS)
    questions = _questions(policy, body)
    villages = list(
        session.scalars(
            select(Village.code).where(Village.code.startswith(body.scope)).order_by(Village.code)
        )
    )
    if not villages:
        raise NoVillages(scope=body.scope)
    per_village = body.codes_per_village or policy.surveys.codes_per_village
    survey = Survey(
        scope=body.scope,
        title=body.title,
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        questions=json.dumps([q.model_dump() for q in questions], ensure_ascii=False),
        codes_per_village=per_village,
        created_by=principal.user_id,
        created_at=now,
    )
    session.add(survey)
    session.flush()
    _make_codes(session, survey, villages, secret)
    return survey


def _questions(policy: Policy, body: SurveyCreate) -> list[SurveyQuestion]:
    if body.questions is None:
        return list(policy.surveys.questions)
    questions = [SurveyQuestion(id=q.id, text=q.text, kind=q.kind) for q in body.questions]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise InvalidQuestions(reason="question ids must differ (题目编号重复)")
    if sum(q.kind == "known" for q in questions) > 1:
        raise InvalidQuestions(reason="at most one `known` question (认识程度题至多一道)")
    return questions


def _make_codes(session: Session, survey: Survey, villages: list[str], secret: str) -> None:
    """Every village's cards; a code whose hash another wave holds already, or one that
    repeats within this wave, is derived again with the next salt (rare: 40 bits)."""
    cards = [(v, seq) for v in villages for seq in range(1, survey.codes_per_village + 1)]

    def digest(village: str, seq: int, salt: int) -> str:
        return rules.code_hash(secret, rules.derive_code(secret, survey.id, village, seq, salt))

    first = [digest(v, seq, 0) for v, seq in cards]
    taken: set[str] = set()
    for i in range(0, len(first), _CHUNK):
        chunk = first[i : i + _CHUNK]
        taken.update(
            session.scalars(select(SurveyCode.code_hash).where(SurveyCode.code_hash.in_(chunk)))
        )
    rows: list[dict[str, object]] = []
    for (village, seq), hashed in zip(cards, first, strict=True):
        salt = 0
        while hashed in taken:
            salt += 1
            hashed = digest(village, seq, salt)
        taken.add(hashed)
        rows.append(
            {
                "survey_id": survey.id,
                "village_code": village,
                "seq": seq,
                "salt": salt,
                "code_hash": hashed,
            }
        )
    session.execute(insert(SurveyCode), rows)


def code_for(secret: str, survey_id: int, row: SurveyCode) -> str:
    return rules.derive_code(secret, survey_id, row.village_code, row.seq, row.salt)


def visible(principal: Principal, survey: Survey) -> bool:
    """A wave is seen by callers whose division overlaps its scope (a county sees a city's
    wave, for its own villages)."""
    prefix = principal.division_prefix
    if prefix is None:
        return False
    return survey.scope.startswith(prefix) or prefix.startswith(survey.scope)


def get_visible(
    session: Session, principal: Principal, survey_id: int, roles: tuple[str, ...] = READERS
) -> Survey:
    own_prefix(principal, roles)
    survey = session.get(Survey, survey_id)
    if survey is None or not visible(principal, survey):
        raise SurveyNotFound(survey_id=survey_id)
    return survey


def within(principal: Principal, survey: Survey) -> str:
    """The prefix of the wave's villages the caller reads: the wave's scope, or the caller's
    own division where it is narrower."""
    own = principal.division_prefix or ""
    return survey.scope if survey.scope.startswith(own) else own


def narrowed(principal: Principal, survey: Survey, scope: str | None) -> str:
    """The villages of `survey` a caller reads: those under `scope` (within the caller's own:
    else 404 `scope_not_found`) and under the caller's own division."""
    own = principal.division_prefix or ""
    base = within(principal, survey)
    if not scope:
        return base
    if not is_prefix(scope):
        raise InvalidScope()
    if not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return scope if scope.startswith(base) else base if base.startswith(scope) else scope


@dataclass(frozen=True)
class Counts:
    villages: int
    answers: int


def counts(session: Session, survey_ids: list[int]) -> dict[int, Counts]:
    if not survey_ids:
        return {}
    villages = dict(
        session.execute(
            select(SurveyCode.survey_id, func.count(func.distinct(SurveyCode.village_code)))
            .where(SurveyCode.survey_id.in_(survey_ids))
            .group_by(SurveyCode.survey_id)
        ).all()
    )
    answers = dict(
        session.execute(
            select(SurveyAnswer.survey_id, func.count())
            .where(SurveyAnswer.survey_id.in_(survey_ids))
            .group_by(SurveyAnswer.survey_id)
        ).all()
    )
    return {i: Counts(villages.get(i, 0), answers.get(i, 0)) for i in survey_ids}


def survey_out(survey: Survey, count: Counts, now: datetime) -> SurveyOut:
    return SurveyOut(
        id=survey.id,
        scope=survey.scope,
        title=survey.title,
        opens_at=survey.opens_at,
        closes_at=survey.closes_at,
        questions=[QuestionOut(**q.model_dump()) for q in questions_of(survey)],
        codes_per_village=survey.codes_per_village,
        villages=count.villages,
        answers=count.answers,
        status=status_of(survey, now),
        created_at=survey.created_at,
    )


def list_visible(
    session: Session, principal: Principal, prefix: str, after: int | None, limit: int
) -> list[Survey]:
    """Waves over `prefix` or over a wider division holding it, newest first."""
    wider = [prefix[:n] for n in (2, 4, 6, 9, 12) if n <= len(prefix)]
    query = select(Survey).where(or_(Survey.scope.startswith(prefix), Survey.scope.in_(wider)))
    if after is not None:
        query = query.where(Survey.id < after)
    return list(session.scalars(query.order_by(Survey.id.desc()).limit(limit)))
