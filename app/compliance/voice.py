"""What villagers said about a member (群众满意度): every source that asks them, each counted
apart, pooled for the annual `rates.satisfaction` and `rates.known`.

A source is one function `(session, policy, member_id, first, last) -> VoiceCount`; the
satisfaction waves are one (`app.surveys`), the households' countersigns and call-backs plug
in beside it with one line in `VOICE_SOURCES`. A rate pools the sources' counts: satisfied
answers over answers that were not 不清楚, whichever source asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.households import findings as household_findings
from app.surveys import results as survey_results


@dataclass(frozen=True)
class VoiceCount:
    source: str  # "surveys"; the households domain adds "countersigns", "callbacks"
    answers: int  # answers received (excluded ones included)
    satisfaction_answers: int  # satisfaction answers that were not 不清楚 (exclusions left out)
    satisfied: int  # of them, 4–5 (满意、非常满意)
    known_answers: int
    known: int


VoiceSource = Callable[[Session, Policy, int, date, date], VoiceCount]


def surveys_voice(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> VoiceCount:
    """The satisfaction waves of the span, in the villages the member served during each."""
    t = survey_results.member_tally(session, policy, member_id, first, last)
    return VoiceCount("surveys", t.answers, t.satisfaction_n, t.satisfied, t.known_n, t.known)


def countersigns_voice(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> VoiceCount:
    """The households' countersigns of the member's visits (app.households)."""
    h = household_findings.countersigns_heard(session, policy, member_id, first, last)
    return VoiceCount(
        "countersigns", h.answers, h.satisfaction_answers, h.satisfied, h.known_answers, h.known
    )


def callbacks_voice(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> VoiceCount:
    """The call-backs (回访) that reached the member's households (app.households)."""
    h = household_findings.callbacks_heard(session, policy, member_id, first, last)
    return VoiceCount(
        "callbacks", h.answers, h.satisfaction_answers, h.satisfied, h.known_answers, h.known
    )


VOICE_SOURCES: tuple[VoiceSource, ...] = (surveys_voice, countersigns_voice, callbacks_voice)


def voice(
    session: Session, policy: Policy, member_id: int, first: date, last: date
) -> list[VoiceCount]:
    return [source(session, policy, member_id, first, last) for source in VOICE_SOURCES]


def pooled(counts: Sequence[VoiceCount]) -> tuple[float | None, float | None]:
    """(satisfaction, known) over every source; None where no source had an answer."""
    sat_n = sum(c.satisfaction_answers for c in counts)
    known_n = sum(c.known_answers for c in counts)
    return (
        None if sat_n == 0 else round(sum(c.satisfied for c in counts) / sat_n, 4),
        None if known_n == 0 else round(sum(c.known for c in counts) / known_n, 4),
    )
