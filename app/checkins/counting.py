"""Which stored check-ins count toward the ledger: credited (on arrival, or when judged again
after a retroactive assignment change) and not voided since.

A reviewer's latest record decides: void takes the fix out, restore puts it back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import aliased

from app.checkins.models import CheckIn, CheckInRejudgement, CheckInReview


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
    for one day's fixes or a rebuild's millions. "Not voided" is written as anti-joins (no
    void review without a later review), which PostgreSQL runs as index probes for a few
    fixes and as hash anti-joins for a scan, rather than a subquery per fix or a pass over
    every review in the database."""
    void = aliased(CheckInReview)
    later = aliased(CheckInReview)
    standing_void = (
        select(void.id)
        .where(
            void.checkin_id == CheckIn.id,
            void.action == "void",
            ~select(later.id)
            .where(later.checkin_id == void.checkin_id, later.id > void.id)
            .exists(),
        )
        .correlate(CheckIn)
        .exists()
    )
    return and_(is_credited(), ~standing_void)


def is_credited() -> ColumnElement[bool]:
    """Credited as judged now: by its rejudgement when it has one (few fixes have: an index
    probe each), else on arrival."""
    judged_again = aliased(CheckInRejudgement)
    again = select(judged_again.checkin_id).where(judged_again.checkin_id == CheckIn.id)
    return or_(
        and_(CheckIn.credited.is_(True), ~again.correlate(CheckIn).exists()),
        again.where(judged_again.credited.is_(True)).correlate(CheckIn).exists(),
    )
