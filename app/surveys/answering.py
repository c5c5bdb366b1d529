"""The public side of a wave: a card's questions, and its one answer.

No sign-in: a card's code is the only key. A code is looked up by its keyed hash and locked
before it is read (two phones sending one code at once: one answer, the other 409). The sender
is kept only as a keyed hash of address and user agent (`rules.device_of`), for the anomaly
checks. Answers and unknown codes count towards the address's limit (`SurveyHit`, by keyed
hash; `zhucun surveys purge` deletes those past the window).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.core.time import as_utc, local_date
from app.org.models import Assignment, Member, Village
from app.surveys import rules, waves
from app.surveys.errors import (
    AlreadyAnswered,
    CodeNotFound,
    InvalidAnswers,
    SurveyClosed,
    TooManyAnswers,
)
from app.surveys.models import Survey, SurveyAnswer, SurveyCode, SurveyHit
from app.surveys.schemas import AnswerIn, PublicSurveyOut, QuestionOut, SurveyReceiptOut


@dataclass(frozen=True)
class Sender:
    address: str
    user_agent: str


def _find(session: Session, secret: str, text: str, lock: bool) -> tuple[SurveyCode, Survey] | None:
    """The card and its wave in one round trip; the card's row locked when asked."""
    code = rules.normal_code(text)
    if code is None:
        return None
    query = (
        select(SurveyCode, Survey)
        .join(Survey, Survey.id == SurveyCode.survey_id)
        .where(SurveyCode.code_hash == rules.code_hash(secret, code))
    )
    if lock:
        query = query.with_for_update(of=SurveyCode)
    row = session.execute(query).first()
    return None if row is None else (row[0], row[1])


def _check_open(survey: Survey, now: datetime) -> None:
    if waves.status_of(survey, now) != "open":
        raise SurveyClosed(
            opens_at=as_utc(survey.opens_at).isoformat(),
            closes_at=as_utc(survey.closes_at).isoformat(),
        )


def _unknown_code(
    session: Session, policy: Policy, secret: str, sender: Sender, now: datetime
) -> CodeNotFound:
    """An unknown code counts towards the address's limit (guessing is throttled too); the
    caller commits before refusing."""
    _throttle(session, policy, secret, sender, now)
    return CodeNotFound()


def read(
    session: Session, policy: Policy, secret: str, text: str, sender: Sender, now: datetime
) -> PublicSurveyOut:
    found = _find(session, secret, text, lock=False)
    if found is None:
        raise _unknown_code(session, policy, secret, sender, now)
    row, survey = found
    _check_open(survey, now)
    if row.answered_at is not None:
        raise AlreadyAnswered()
    village = session.get(Village, row.village_code)
    assert village is not None
    return PublicSurveyOut(
        title=survey.title,
        village_name=village.name,
        team=team_names(session, row.village_code, local_date(now, policy.zone)),
        questions=[QuestionOut(**q.model_dump()) for q in waves.questions_of(survey)],
        opens_at=survey.opens_at,
        closes_at=survey.closes_at,
    )


def team_names(session: Session, village_code: str, day: date) -> list[str]:
    """The members serving the village on `day` (its team), by name."""
    return list(
        session.scalars(
            select(Member.full_name)
            .join(Assignment, Assignment.member_id == Member.id)
            .where(
                Assignment.village_code == village_code,
                Assignment.start_date <= day,
                (Assignment.end_date.is_(None)) | (Assignment.end_date >= day),
            )
            .order_by(Member.id)
        )
    )


def answer(
    session: Session,
    policy: Policy,
    secret: str,
    text: str,
    body: AnswerIn,
    sender: Sender,
    now: datetime,
) -> SurveyReceiptOut:
    found = _find(session, secret, text, lock=True)  # locked before it is read
    if found is None:
        raise _unknown_code(session, policy, secret, sender, now)
    row, survey = found
    _check_open(survey, now)
    if row.answered_at is not None:
        raise AlreadyAnswered()
    questions = waves.questions_of(survey)
    expected = {q.id for q in questions}
    given = set(body.answers)
    if given != expected:
        missing, extra = sorted(expected - given), sorted(given - expected)
        parts = [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(extra)}" if extra else "",
        ]
        raise InvalidAnswers(reason="; ".join(p for p in parts if p) + " (每道题都要作答)")
    _throttle(session, policy, secret, sender, now)
    receipt = "".join(secrets.choice(rules.ALPHABET) for _ in range(8))
    answer_row = SurveyAnswer(
        survey_id=survey.id,
        code_id=row.id,
        village_code=row.village_code,
        answered_at=now,
        vector=rules.vector_of(questions, dict(body.answers)),
        comment=body.comment,
        device=rules.device_of(secret, sender.address, sender.user_agent),
        receipt=receipt,
    )
    session.add(answer_row)
    row.answered_at = now
    session.flush()
    return SurveyReceiptOut(receipt=receipt, answer_id=answer_row.id)


def _throttle(session: Session, policy: Policy, secret: str, sender: Sender, now: datetime) -> None:
    """Count this request against its address: 429 past the limit within the window. Taken
    under a per-address lock on PostgreSQL (SQLite writers are serial already)."""
    limit = policy.surveys.max_answers_per_address
    window = timedelta(minutes=policy.surveys.throttle_minutes)
    address = rules.keyed(secret, "address", sender.address)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(
                func.pg_advisory_xact_lock(func.hashtextextended(f"survey-address:{address}", 0))
            )
        )
    times = session.scalars(
        select(SurveyHit.at)
        .where(SurveyHit.address == address, SurveyHit.at > now - window)
        .order_by(SurveyHit.at.desc())
        .limit(limit)
    ).all()
    if len(times) >= limit:
        oldest = min(as_utc(t) for t in times)
        wait = max(1, int((oldest + window - now).total_seconds()) + 1)
        raise TooManyAnswers(limit=limit, minutes=policy.surveys.throttle_minutes, retry_after=wait)
    session.add(SurveyHit(address=address, at=now))
