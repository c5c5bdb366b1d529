"""Retention (PIPL: as short as the purpose allows): `zhucun privacy purge` nulls the raw
position, motion and Wi-Fi of fixes captured more than `policy.privacy.raw_fix_days` ago,
keeping the village, geofence, distance (rounded to 10 m), accuracy, flags and hashes.

Each batch is one short transaction over fixes by id: it takes no member lock (uploads and the
ledger never wait on it; no writer of check-ins edits a stored row) and holds row locks on old
fixes only. A fix whose chain link no longer verifies is left whole (purging it would destroy
the evidence `audit verify` reports). Each purged fix keeps `purge_hash` (what it kept, bound
to its link's hash), and each batch appends one `privacy.purge` entry to the actions log with
the digest of its fixes' purge hashes: `audit verify` holds them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, null, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.audit import actions
from app.checkins import hashing
from app.checkins.audit import PURGE_ACTION, purge_digest
from app.checkins.reading import c, checkins
from app.core.db import session_scope
from app.core.policy import Policy
from app.core.time import utcnow


@dataclass
class PurgeReport:
    purged: int = 0
    batches: int = 0
    skipped: int = 0  # links that did not verify: left whole
    cutoff: datetime | None = None
    longest_batch_s: float = 0.0

    def summary(self) -> str:
        skipped = (
            f"; {self.skipped} left whole (their chain link does not verify: run audit verify)"
            if self.skipped
            else ""
        )
        cutoff = self.cutoff.isoformat() if self.cutoff else "?"
        return (
            f"{self.purged} fix(es) captured before {cutoff} purged in {self.batches} "
            f"batch(es), longest batch {self.longest_batch_s * 1000:.0f} ms{skipped}"
        )


_NULLS: dict[str, Any] = {name: null() for name in hashing.PURGED_FIELDS}
# SQLite (in process: a statement per fix costs microseconds).
_UPDATE = (
    update(checkins)
    .where(c.id == bindparam("b_id"), c.purged_at.is_(None))
    .values(
        **_NULLS,
        distance_m=bindparam("v_distance_m"),
        purged_at=bindparam("v_purged_at"),
        purge_hash=bindparam("v_purge_hash"),
    )
)
# PostgreSQL: the batch in one statement (a round trip per fix would be most of the time).
_UPDATE_PG = text(
    "UPDATE checkins AS c SET "
    + ", ".join(f"{name} = NULL" for name in hashing.PURGED_FIELDS)
    + ", distance_m = v.distance_m, purged_at = :at, purge_hash = v.purge_hash "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:distances AS double precision[]), "
    "CAST(:hashes AS text[])) AS v(id, distance_m, purge_hash) "
    "WHERE c.id = v.id AND c.purged_at IS NULL"
)


def purge(
    factory: sessionmaker[Session],
    policy: Policy,
    *,
    now: datetime | None = None,
    batch: int | None = None,
    actor: str = actions.CLI,
) -> PurgeReport:
    """Purge every fix captured before `now - raw_fix_days`, batch by batch (each its own
    transaction, committed before the next begins)."""
    import time

    now = now or utcnow()
    size = batch or policy.privacy.purge_batch
    report = PurgeReport(cutoff=now - timedelta(days=policy.privacy.raw_fix_days))
    after = 0
    last_at: datetime | None = None
    while True:
        began = time.perf_counter()
        with session_scope(factory) as session:
            rows = [
                dict(r)
                for r in session.execute(
                    select(checkins)
                    .where(c.id > after, c.purged_at.is_(None), c.captured_at < report.cutoff)
                    .order_by(c.id)
                    .limit(size)
                ).mappings()
            ]
            if not rows:
                break
            after = rows[-1]["id"]
            at = utcnow()
            if last_at is not None and at <= last_at:  # one batch, one instant
                at = last_at + timedelta(microseconds=1)
            last_at = at
            params = []
            for row in rows:
                purge_hash = hashing.verified_purge_hash(row, at)
                if purge_hash is None:  # the link does not verify: keep the evidence whole
                    report.skipped += 1
                    continue
                params.append(
                    {
                        "b_id": row["id"],
                        "v_distance_m": hashing.purged_values(row)["distance_m"],
                        "v_purged_at": at,
                        "v_purge_hash": purge_hash,
                    }
                )
            if params and session.get_bind().dialect.name == "postgresql":
                session.execute(
                    _UPDATE_PG,
                    {
                        "at": at,
                        "ids": [p["b_id"] for p in params],
                        "distances": [p["v_distance_m"] for p in params],
                        "hashes": [p["v_purge_hash"] for p in params],
                    },
                )
            elif params:
                session.execute(_UPDATE, params)
            if params:
                actions.record(
                    session,
                    actor=actor,
                    action=PURGE_ACTION,
                    subject="checkins:purge",
                    payload={
                        "purged_at": at,
                        "cutoff": report.cutoff,
                        "count": len(params),
                        "first_id": params[0]["b_id"],
                        "last_id": params[-1]["b_id"],
                        "digest": purge_digest(
                            iter([(p["b_id"], p["v_purge_hash"]) for p in params])
                        ),
                    },
                )
                report.purged += len(params)
                report.batches += 1
        report.longest_batch_s = max(report.longest_batch_s, time.perf_counter() - began)
    return report
