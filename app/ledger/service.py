"""Keeping the presence ledger up to date."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from app.core.policy import Policy


def refresh_days(session: Session, policy: Policy, member_id: int, days: Iterable[date]) -> None:
    """Recompute the member's ledger entries for `days` from the source records.

    Called in the same transaction as every write that can change a day (a check-in, a review,
    a leave decision, an assignment change).
    """
    # Filled in by the ledger issue; check-ins call it from the start.
    del session, policy, member_id, days
