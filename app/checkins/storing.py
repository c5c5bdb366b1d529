"""Storing a member's fixes: one (POST /checkins) or a batch, by one path.

Two round trips on PostgreSQL (`app.core.roundtrip`): the first checks the uploader's token
session, locks the member's chain head and ledger row, and reads everything the fixes are
judged by; the fixes are judged in Python (`judging`); the second inserts them, advances the
chain and writes the ledger days they change, with the COMMIT. Every statement of the first
trip after the lock runs after it was granted, so it sees every write of the member before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth.dependencies import check_uploader
from app.auth.service import PRINCIPAL_ROW, principal_params
from app.checkins import findings as findings_service
from app.checkins import rules
from app.checkins.chain import Head, lock_head, new_head
from app.checkins.errors import IdempotencyConflict, ItemNotStored, TooOld
from app.checkins.judging import Prepared, judge, prepare
from app.checkins.reading import c, judged, out, stored_out
from app.checkins.schemas import CheckInCreate, CheckInOut
from app.checkins.surroundings import Span
from app.checkins.trips import FirstTrip, queue_save
from app.core.errors import AppError, ValidationFailed, pydantic_errors
from app.core.outage import is_outage
from app.core.policy import Policy
from app.core.roundtrip import RoundTrip, begin_on_first_trip
from app.core.security import TokenClaims
from app.geofence.cache import (
    BoundariesMoved,
    cached_index,
    index_for_revision,
    village_index_at,
)
from app.ledger.refresh import DayReads

log = logging.getLogger("zhucun.checkins")

Status = Literal["created", "duplicate", "rejected"]


@dataclass(slots=True)
class Outcome:
    """What became of one fix."""

    client_id: str | None
    status: Status
    checkin: CheckInOut | None = None
    error: AppError | None = None


def record(
    session: Session,
    policy: Policy,
    member_id: int,
    body: CheckInCreate,
    received_at: datetime,
    *,
    token: TokenClaims | None = None,
) -> tuple[CheckInOut, bool]:
    """Store one fix of the member (or find it stored already). Returns (check-in, created).

    With `token`, the token's user must still be this member, active, in an open session
    (checked in the first round trip). Raises IdempotencyConflict for a known client_id with
    another body, TooOld or InFuture."""
    outcome = _store(session, policy, member_id, [prepare(body, policy)], received_at, token)[0]
    if outcome.error is not None:
        raise outcome.error
    assert outcome.checkin is not None
    return outcome.checkin, outcome.status == "created"


def record_batch(
    session: Session,
    policy: Policy,
    member_id: int,
    items: Sequence[Any],
    received_at: datetime,
    *,
    token: TokenClaims | None = None,
) -> list[Outcome]:
    """Store many fixes of the member in input order, each judged as if sent alone in that
    order; a bad item is rejected alone, with the problem it would have had on its own."""
    outcomes: list[Outcome | None] = [None] * len(items)
    valid: list[tuple[int, Prepared]] = []
    for i, raw in enumerate(items):
        try:
            body = CheckInCreate.model_validate(raw)
        except ValidationError as exc:
            outcomes[i] = Outcome(_raw_client_id(raw), "rejected", error=_invalid(exc, i))
            continue
        try:
            valid.append((i, prepare(body, policy)))
        except Exception:  # a defect: this item alone
            log.exception("batch item %d not prepared", i)
            outcomes[i] = Outcome(str(body.client_id), "rejected", error=ItemNotStored())
    if valid:
        fixes = [p for _, p in valid]
        try:
            stored = _store(session, policy, member_id, fixes, received_at, token)
        except Exception as exc:
            if token is None or isinstance(exc, AppError) or is_outage(exc):
                raise  # a caller's own transaction; the uploader refused; no database
            log.exception("batch of %d not stored together: storing each alone", len(fixes))
            stored = _store_each_alone(session, policy, member_id, fixes, received_at, token)
        for (i, _), outcome in zip(valid, stored, strict=True):
            outcomes[i] = outcome
    elif token is not None:  # nothing to store, but the token must still hold
        trip = RoundTrip(session)
        who = trip.add(PRINCIPAL_ROW, principal_params(token.user_id, token.session_id))
        trip.run()
        check_uploader(who.first(), token, member_id)
    assert all(o is not None for o in outcomes)
    return cast(list[Outcome], outcomes)


def _store_each_alone(
    session: Session,
    policy: Policy,
    member_id: int,
    fixes: list[Prepared],
    received_at: datetime,
    token: TokenClaims,
) -> list[Outcome]:
    """Outcomes of `fixes` stored one by one, each in a transaction of its own, after the
    batch's failed: an item that fails again is rejected alone and the others are kept.

    The failed transaction is rolled back whole first (on PostgreSQL it is aborted anyway:
    no statement after the error ran), so nothing of it was stored: each fix is then judged
    and stored exactly as if sent alone, in order, and a fix that the failed attempt did
    store (the COMMIT sent before the error) is found stored and answered as a duplicate."""
    outcomes: list[Outcome] = []
    for p in fixes:
        session.rollback()
        begin_on_first_trip(session)
        try:
            outcomes.extend(_store(session, policy, member_id, [p], received_at, token))
            session.commit()  # kept, whatever becomes of the next
        except Exception as exc:
            if isinstance(exc, AppError) or is_outage(exc):
                raise
            log.exception("batch item %s not stored", p.client_id)
            outcomes.append(Outcome(p.client_id, "rejected", error=ItemNotStored()))
    session.rollback()
    begin_on_first_trip(session)
    return outcomes


def _store(
    session: Session,
    policy: Policy,
    member_id: int,
    fixes: list[Prepared],
    received_at: datetime,
    token: TokenClaims | None,
) -> list[Outcome]:
    """Outcomes of `fixes`, in order: duplicates answered as stored, the rest judged in order
    and stored (a client_id seen twice is stored once)."""
    refusals = {id(p): window_error(p, received_at, policy) for p in fixes}
    in_window = [p for p in fixes if refusals[id(p)] is None]
    span = Span.of(in_window) if in_window else None
    while True:
        trip = RoundTrip(session)
        first = FirstTrip.queue(trip, policy, member_id, fixes, span, token)
        trip.run()
        if first.who is not None and token is not None:
            check_uploader(first.who.first(), token, member_id)
        head_row = first.locked.first()
        if head_row is None:  # the member's first check-in: make the chain, then lock it so
            trip.add(new_head(trip.dialect_name), {"m": member_id})
            trip.run()
            continue
        revision = head_row[3] or 0
        index = cached_index(session, revision)  # no query, never builds: locks are held
        if index is not None:
            break
        if token is None:  # a caller's own transaction (the demo, a command): keep its work
            index = village_index_at(session, revision)
            break
        # An upload's own transaction: let go of its locks, build the index, start again.
        session.rollback()
        with contextlib.suppress(BoundariesMoved):  # newer still: the next lap reads it
            index_for_revision(session, revision)
        session.rollback()  # nothing the build read is kept; the next lap begins afresh
        begin_on_first_trip(session)
    head = Head(head_row[0], head_row[1], head_row[2])
    stored, days = first.stored, first.days
    known = {client_id: checkin_id for checkin_id, client_id, _ in stored.rows}
    answers = _stored_answers(session, known.values()) if known else {}
    around = first.loading.build() if first.loading else None

    outcomes: list[Outcome] = []
    new_rows: list[dict[str, Any]] = []
    hashes = {client_id: body_hash for _, client_id, body_hash in stored.rows}
    for p in fixes:
        if p.client_id in hashes:  # stored before, or earlier in this batch
            if hashes[p.client_id] != p.body_hash:
                error = IdempotencyConflict(client_id=p.client_id)
                outcomes.append(Outcome(p.client_id, "rejected", error=error))
                continue
            old = known.get(p.client_id)
            if old is not None and old not in answers:
                # Stored in a month since detached (app.checkins.partitions): older than the
                # upload window, so refused as a new fix would be.
                gone = refusals[id(p)] or TooOld(max_age_days=policy.flags.max_age_days)
                outcomes.append(Outcome(p.client_id, "rejected", error=gone))
                continue
            outcomes.append(
                Outcome(p.client_id, "duplicate", answers[old] if old is not None else None)
            )
            continue
        refused = refusals[id(p)]
        if refused is not None:
            outcomes.append(Outcome(p.client_id, "rejected", error=refused))
            continue
        assert around is not None
        new_rows.append(judge(p, member_id, received_at, head, index, policy, around))
        hashes[p.client_id] = p.body_hash
        outcomes.append(Outcome(p.client_id, "created"))
    if new_rows:
        assert around is not None
        shared = list(around.shared_findings.values())
        fresh = _save(session, policy, member_id, head, new_rows, days, received_at, shared)
        for outcome in outcomes:
            if outcome.checkin is None and outcome.status != "rejected":
                assert outcome.client_id is not None
                outcome.checkin = fresh[outcome.client_id]
    return outcomes


def _save(
    session: Session,
    policy: Policy,
    member_id: int,
    head: Head,
    rows: list[dict[str, Any]],
    days: DayReads | None,
    received_at: datetime,
    shared: list[dict[str, Any]],
) -> dict[str, CheckInOut]:
    """INSERT the new rows, move the chain head, bring their days up to date: one round trip,
    with the COMMIT unless the batch brought a track to scan for replays. By client_id."""
    assert days is not None
    trip = RoundTrip(session)
    inserted = queue_save(trip, policy, member_id, head, rows, days, shared)
    tracks = _track_days(rows, policy)
    trip.run(commit=not tracks)
    ids = {client_id: new_id for new_id, client_id in inserted.rows}
    found: dict[int, list[Any]] = {}
    if tracks and findings_service.scan_member_days(
        session, policy, member_id, tracks, received_at
    ):
        found = findings_service.findings_for(
            session, ids.values(), [row["local_date"] for row in rows]
        )
    return {
        row["client_id"]: out(row, ids[row["client_id"]], [], found.get(ids[row["client_id"]]))
        for row in rows
    }


def _track_days(rows: list[dict[str, Any]], policy: Policy) -> list[date]:
    """The days this upload brought a track to (at least `replay_track_min_fixes` of its
    fixes): scanned for replayed tracks under the lock held. Smaller uploads are left to
    `zhucun checkins scan-replays`."""
    per_day: dict[date, int] = {}
    for row in rows:
        per_day[row["local_date"]] = per_day.get(row["local_date"], 0) + 1
    return [d for d, n in per_day.items() if n >= policy.flags.replay_track_min_fixes]


def scan_replays(
    session: Session, policy: Policy, member_id: int, days: Iterable[date], at: datetime
) -> int:
    """Record the replayed tracks on the member's `days`, the member's chain head locked first
    (a batch of the member scanning at the same time waits). Returns the new findings."""
    lock_head(session, member_id)
    return findings_service.scan_member_days(session, policy, member_id, days, at)


def _stored_answers(session: Session, ids: Iterable[int]) -> dict[int, CheckInOut]:
    """Fixes stored before, as answered again (resent: rare, so read in full only now)."""
    rows = session.execute(judged().where(c.id.in_(list(ids))))
    return stored_out(session, rows)


def window_error(p: Prepared, received_at: datetime, policy: Policy) -> AppError | None:
    try:
        rules.check_window(p.captured_at, received_at, policy.flags)
    except AppError as exc:
        return exc
    return None


# --- batch items that fail validation ------------------------------------------------------


def _raw_client_id(raw: Any) -> str | None:
    value = raw.get("client_id") if isinstance(raw, dict) else None
    if isinstance(value, str) and len(value) <= 64:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return value
    return None


def _invalid(exc: ValidationError, position: int) -> ValidationFailed:
    errors = exc.errors(include_url=False, include_input=False)
    return ValidationFailed(pydantic_errors(errors, ("body", "items", str(position))))
