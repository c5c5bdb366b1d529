"""Which stored check-ins count toward the ledger: credited on arrival and not voided since.

A reviewer's latest record decides: void takes the fix out, restore puts it back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import aliased

from app.checkins.models import CheckIn, CheckInReview


def latest_review_action(checkin_id: Any) -> ColumnElement[str | None]:
    return (
        select(CheckInReview.action)
        .where(CheckInReview.checkin_id == checkin_id)
        .order_by(CheckInReview.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def is_voided() -> ColumnElement[bool]:
    """True for a check-in whose latest review is a void."""
    return latest_review_action(CheckIn.id) == "void"


def counts() -> ColumnElement[bool]:
    """A filter on `CheckIn` keeping the fixes that count toward a day: the one definition,
    for one day or a scan of millions. The voided fixes are found once, from the few reviewed
    ones (a set the database hashes), not by a subquery per fix."""
    reviewed = aliased(CheckInReview)
    voided = select(reviewed.checkin_id).where(latest_review_action(reviewed.checkin_id) == "void")
    return and_(CheckIn.credited.is_(True), CheckIn.id.not_in(voided))
