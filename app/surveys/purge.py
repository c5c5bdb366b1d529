"""Device hashes are kept only while they may be needed: `policy.surveys.device_days` after a
wave closes, each answer's keyed hash of address and browser is replaced by a number that only
groups the wave's own answers (`#1`, `#2`, … in order of first answer), so `same_device` still
shows in its results while nothing links an answer to an address or to another wave. The
per-address counters of the public routes are deleted once past their window."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.surveys.models import Survey, SurveyAnswer, SurveyHit


def purge_hits(session: Session, policy: Policy, now: datetime) -> int:
    """The public routes' per-address counters past their window: no longer needed."""
    cutoff = now - timedelta(minutes=policy.surveys.throttle_minutes)
    result = session.execute(delete(SurveyHit).where(SurveyHit.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def purge_devices(session: Session, policy: Policy, now: datetime) -> int:
    """Waves whose devices were replaced now (locked, so two runs never number one twice)."""
    cutoff = now - timedelta(days=policy.surveys.device_days)
    waves = session.scalars(
        select(Survey)
        .where(Survey.closes_at < cutoff, Survey.devices_purged_at.is_(None))
        .order_by(Survey.id)
        .with_for_update()
    ).all()
    for survey in waves:
        numbers: dict[str, str] = {}
        for answer_id, device in session.execute(
            select(SurveyAnswer.id, SurveyAnswer.device)
            .where(SurveyAnswer.survey_id == survey.id)
            .order_by(SurveyAnswer.answered_at, SurveyAnswer.id)
        ):
            number = numbers.setdefault(device, f"#{len(numbers) + 1}")
            session.execute(
                update(SurveyAnswer).where(SurveyAnswer.id == answer_id).values(device=number)
            )
        survey.devices_purged_at = now
    session.flush()
    return len(waves)
