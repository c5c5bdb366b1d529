"""Waiting, in a race test on PostgreSQL, until requests are blocked on a lock the test holds."""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

_LOCK_WAITERS = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def wait_for_lock_waiters(engine: Engine, count: int, *, timeout_s: float, what: str) -> None:
    """Return once `count` sessions of the database wait on a lock; fail after `timeout_s`
    with "<waiting> of <count> <what>"."""
    deadline = time.monotonic() + timeout_s
    waiting = 0
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(_LOCK_WAITERS).scalar_one()
            conn.commit()
            if waiting >= count:
                return
            time.sleep(0.05)
    raise AssertionError(f"only {waiting} of {count} {what}")
