"""A streaming replica for reports (`ZHUCUN_REPORTS_DATABASE_URL`).

Exports, the compliance lists, the dashboard and the annual evaluation read on the replica, so
that a province's reports do not compete with its uploads; everything else (and every write)
stays on the primary. The replica's lag is read at most once a second: past
`ZHUCUN_REPORTS_MAX_LAG_S` seconds, or when the replica does not answer, reports read on the
primary until it is back in bound. /readyz shows the lag and where reports go.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, text

from app.core.db import make_engine, read_only_engine

log = logging.getLogger("zhucun.replica")

# Seconds behind the primary: 0 when the replica has replayed all it received (an idle
# primary sends nothing, so the last replayed transaction's age would overstate the lag), else
# the age of the last transaction replayed. Not a standby (promoted, or a primary named
# here): 0.
LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0) "
    "END"
)
_CHECK_EVERY_S = 1.0

Target = Literal["replica", "primary"]


@dataclass(frozen=True, slots=True)
class ReplicaState:
    lag_s: float | None  # None: the replica did not answer
    reports_on: Target


class Replica:
    """The reports' engine, and whether it is in bound now."""

    def __init__(self, url: str, max_lag_s: float) -> None:
        self.engine = make_engine(url)
        self._snapshots = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self.max_lag_s = max_lag_s
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._state = ReplicaState(None, "primary")

    def state(self) -> ReplicaState:
        """The lag as last read (read again when a second old)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < _CHECK_EVERY_S:
                return self._state
            self._checked_at = now  # one reader at a time; the others use the last state
        lag = self._read_lag()
        on: Target = "replica" if lag is not None and lag <= self.max_lag_s else "primary"
        state = ReplicaState(lag, on)
        if state.reports_on != self._state.reports_on:
            log.warning("reports now read on the %s", on, extra={"lag_s": lag})
        self._state = state
        return state

    def _read_lag(self) -> float | None:
        try:
            with self.engine.connect() as connection:
                return float(connection.execute(LAG).scalar_one())
        except Exception as exc:
            log.warning("the reports' replica did not answer: %s", exc.__class__.__name__,
                        extra={"error": str(exc)[:200]})  # fmt: skip
            return None

    def engine_for_reports(self, primary: Engine) -> Engine:
        """A read-only engine for a report: the replica's (one snapshot; a standby is read
        only already, and psycopg's read-only flag would fail being reset on it), or the
        primary's `read_only_engine`."""
        if self.state().reports_on == "replica":
            return self._snapshots
        return read_only_engine(primary)

    def dispose(self) -> None:
        self.engine.dispose()


def open_replica(url: str | None, max_lag_s: float) -> Replica | None:
    return Replica(url, max_lag_s) if url else None
