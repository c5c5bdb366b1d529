"""Which stored check-ins count toward the ledger: credited on arrival and not voided since.

A reviewer's latest record decides: void takes the fix out, restore puts it back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select

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
    """A filter on `CheckIn` keeping the fixes that count toward a day."""
    return and_(
        CheckIn.credited.is_(True), latest_review_action(CheckIn.id).is_distinct_from("void")
    )
