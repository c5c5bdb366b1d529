"""Auditors' exclusions: answers left out of the rates with a reason, never deleted; each
request is an entry of the actions log (`survey.exclude`), the rows keep reason, who and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.principal import Principal
from app.surveys.errors import AnswerNotFound
from app.surveys.models import Survey, SurveyAnswer, SurveyExclusion
from app.surveys.schemas import ExclusionIn, ExclusionOut


def exclude(
    session: Session, principal: Principal, survey: Survey, body: ExclusionIn, now: datetime
) -> ExclusionOut:
    wanted = sorted(set(body.answer_ids))
    prefix = principal.division_prefix or ""
    # Locked before they are read: two auditors excluding one answer at once keep one row.
    found = {
        answer_id: village
        for answer_id, village in session.execute(
            select(SurveyAnswer.id, SurveyAnswer.village_code)
            .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.id.in_(wanted))
            .with_for_update()
        )
        if village.startswith(prefix)
    }
    missing = [a for a in wanted if a not in found]
    if missing:
        raise AnswerNotFound(survey_id=survey.id, answer_ids=", ".join(map(str, missing[:20])))
    before = set(
        session.scalars(
            select(SurveyExclusion.answer_id).where(SurveyExclusion.answer_id.in_(wanted))
        )
    )
    new = [a for a in wanted if a not in before]
    for answer_id in new:
        session.add(
            SurveyExclusion(
                answer_id=answer_id,
                survey_id=survey.id,
                reason=body.reason,
                excluded_by=principal.user_id,
                excluded_at=now,
            )
        )
    if new:
        audit_actions.record(
            session,
            actor=principal.user_id,
            action="survey.exclude",
            subject=f"survey:{survey.id}",
            payload={"answer_ids": new, "reason": body.reason},
        )
    session.flush()
    return ExclusionOut(survey_id=survey.id, excluded=new, already_excluded=sorted(before), at=now)
