"""Additions to a check-in's answer made by a domain above check-ins.

A check-in carrying `roll_call_id` answers a roll call; supervision judges it. Check-ins must
not import supervision (arrows point down), so the judge is handed in: app/main.py puts it on
`app.state.roll_call_judge`, and the router asks it only about fixes that carry an id, so a
plain check-in costs nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.checkins.schemas import CheckInOut, RollCallStatus


class RollCallJudge(Protocol):
    def __call__(
        self, session: Session, checkins: Sequence[CheckInOut]
    ) -> dict[int, RollCallStatus]: ...


def add_roll_call_status(app: FastAPI, session: Session, checkins: Sequence[CheckInOut]) -> None:
    """Fill in `roll_call_status` of the check-ins that carry a `roll_call_id`."""
    carrying = [ci for ci in checkins if ci.roll_call_id is not None]
    if not carrying:
        return
    judge: RollCallJudge | None = getattr(app.state, "roll_call_judge", None)
    statuses = judge(session, carrying) if judge is not None else {}
    for ci in carrying:
        # Without a judge (no supervision wired in) no roll call can hold the member.
        ci.roll_call_status = statuses.get(ci.id, "not_called")
