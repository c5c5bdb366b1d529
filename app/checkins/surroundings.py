"""What new fixes are judged by: the member's assignments and their boundary versions, the
fixes stored around them in capture order, the fixes they may replay, and the registered
Wi-Fi of the assigned villages. Read in one round trip for one fix or a batch, and kept up to
date in memory as each fix of a batch is judged."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, or_, select

from app.checkins import rules
from app.checkins.models import CheckIn
from app.checkins.schemas import CheckInCreate
from app.core.policy import Policy
from app.core.roundtrip import Answer, RoundTrip
from app.core.time import as_utc
from app.org.models import Assignment, VillageAccessPoint, VillageBoundary

if TYPE_CHECKING:  # judging reads the surroundings: its fixes are only named here
    from app.checkins.judging import Prepared

c = cast(Table, CheckIn.__table__).c


@dataclass(frozen=True, slots=True)
class Span:
    """Where the new fixes are: days, instants and latitudes (bounds included)."""

    first_day: date
    last_day: date
    earliest: datetime
    latest: datetime
    low_lat: float
    high_lat: float
    motion: bool  # some fix reports altitude, speed or heading (it may be a replay)
    wifi: bool  # some fix reports Wi-Fi

    @classmethod
    def of(cls, fixes: Sequence[Prepared]) -> Span:
        """The span of prepared fixes (at least one)."""
        return cls(
            first_day=min(p.local_date for p in fixes),
            last_day=max(p.local_date for p in fixes),
            earliest=min(p.captured_at for p in fixes),
            latest=max(p.captured_at for p in fixes),
            low_lat=min(p.latitude for p in fixes),
            high_lat=max(p.latitude for p in fixes),
            motion=any(_moves(p.body) for p in fixes),
            wifi=any(p.body.wifi for p in fixes),
        )


@dataclass
class Surroundings:
    assignments: list[tuple[date, date | None, str]]
    boundary_ids: dict[str, int]
    times: list[datetime]  # the member's fixes around the new ones, in capture order
    fixes: list[rules.Fix]
    # Fixes that may be replayed (they report altitude, speed or heading), by latitude.
    lats: list[float]
    places: list[tuple[float, float, date, rules.Reading]]
    registered_wifi: dict[str, set[str]]
    policy: Policy

    @staticmethod
    def queue(trip: RoundTrip, policy: Policy, member_id: int, span: Span) -> _Loading:
        """Queue the reads on `trip`; `build()` the surroundings once it has run."""
        days = {"m": member_id, "lo": span.first_day, "hi": span.last_day}
        times = {"m": member_id, "t0": span.earliest, "t1": span.latest}
        margin, _ = rules.replay_box(0.0, policy.flags.repeat_tolerance_m)
        band = {"m": member_id, "lo": span.low_lat - margin, "hi": span.high_lat + margin}
        return _Loading(
            policy,
            trip.add(_ASSIGNMENTS, days),
            trip.add(_AROUND, times),
            trip.add(_CANDIDATES, band) if span.motion else None,
            trip.add(_WIFI, days) if span.wifi else None,
        )

    def assigned_on(self, day: date) -> str | None:
        for start, end, code in self.assignments:
            if start <= day and (end is None or day <= end):
                return code
        return None

    def neighbours(self, at: datetime) -> tuple[rules.Fix | None, rules.Fix | None]:
        """The member's fixes just before (or at) `at` and just after it."""
        k = bisect.bisect_right(self.times, at)
        previous = self.fixes[k - 1] if k > 0 else None
        following = self.fixes[k] if k < len(self.fixes) else None
        return previous, following

    def replayed_day(
        self, body: CheckInCreate, latitude: float, longitude: float, day: date
    ) -> date | None:
        """A day of a candidate in the fix's box that `rules.replays`, if any."""
        if not _moves(body):
            return None
        reading = rules.reading(body)
        dlat, dlon = rules.replay_box(latitude, self.policy.flags.repeat_tolerance_m)
        start = bisect.bisect_left(self.lats, latitude - dlat)
        stop = bisect.bisect_right(self.lats, latitude + dlat)
        return next(
            (
                old_day
                for _, lon, old_day, old in self.places[start:stop]
                if old_day != day
                and abs(lon - longitude) <= dlon
                and rules.replays(reading, old, self.policy.flags)
            ),
            None,
        )

    def add(
        self, body: CheckInCreate, at: datetime, latitude: float, longitude: float, day: date
    ) -> None:
        """Count a fix just judged among the stored ones."""
        k = bisect.bisect_right(self.times, at)
        self.times.insert(k, at)
        self.fixes.insert(k, rules.Fix(at, latitude, longitude, body.accuracy_m))
        if _moves(body):
            k = bisect.bisect_right(self.lats, latitude)
            self.lats.insert(k, latitude)
            self.places.insert(k, (latitude, longitude, day, rules.reading(body)))


def _moves(body: CheckInCreate) -> bool:
    """`rules.Reading.has_motion_fields` of the body, without making its Reading (per fix of
    a batch, up to three times)."""
    return not (body.altitude_m is None and body.speed_mps is None and body.heading_deg is None)


@dataclass(slots=True)
class _Loading:
    policy: Policy
    assignments: Answer
    around: Answer
    candidates: Answer | None
    wifi: Answer | None

    def build(self) -> Surroundings:
        spans = [(start, end, code) for start, end, code, _ in self.assignments.rows]
        boundary_ids = {code: bid for _, _, code, bid in self.assignments.rows if bid is not None}
        # Before, between and after never overlap; ties in time keep the id order.
        fixes = sorted((as_utc(at), k, lat, lon, acc) for at, k, lat, lon, acc in self.around.rows)
        candidates = self.candidates.rows if self.candidates else []
        places = sorted(
            (
                (lat, lon, day, rules.Reading(acc, alt, spd, hdg))
                for lat, lon, day, acc, alt, spd, hdg in candidates
            ),
            key=lambda place: place[0],
        )
        registered: dict[str, set[str]] = {}
        for code, bssid in self.wifi.rows if self.wifi else []:
            registered.setdefault(code, set()).add(bssid)
        return Surroundings(
            assignments=spans,
            boundary_ids=boundary_ids,
            times=[f[0] for f in fixes],
            fixes=[rules.Fix(at, lat, lon, acc) for at, _, lat, lon, acc in fixes],
            lats=[p[0] for p in places],
            places=places,
            registered_wifi=registered,
            policy=self.policy,
        )


_mine = c.member_id == bindparam("m")
_on_days = (
    Assignment.member_id == bindparam("m"),
    Assignment.start_date <= bindparam("hi"),
    or_(Assignment.end_date.is_(None), Assignment.end_date >= bindparam("lo")),
)
_ASSIGNMENTS = (
    select(
        Assignment.start_date,
        Assignment.end_date,
        Assignment.village_code,
        select(VillageBoundary.id)
        .where(
            VillageBoundary.village_code == Assignment.village_code,
            VillageBoundary.valid_to.is_(None),
        )
        .limit(1)
        .scalar_subquery(),
    )
    .where(*_on_days)
    .order_by(Assignment.start_date, Assignment.id)
)
_t0, _t1 = bindparam("t0", type_=c.captured_at.type), bindparam("t1", type_=c.captured_at.type)
_POINT = (c.captured_at, c.id, c.latitude, c.longitude, c.accuracy_m)
_PLACED = c.latitude.is_not(None)  # a purged fix (`app.privacy.purge`) is no neighbour


def _around() -> Any:
    """The member's fixes from t0 to t1 and the one just before and after: one statement."""
    before = (
        select(*_POINT)
        .where(_mine, _PLACED, c.captured_at < _t0)
        .order_by(c.captured_at.desc(), c.id.desc())
        .limit(1)
        .subquery()
    )
    after = (
        select(*_POINT)
        .where(_mine, _PLACED, c.captured_at > _t1)
        .order_by(c.captured_at, c.id)
        .limit(1)
    ).subquery()
    between = select(*_POINT).where(_mine, _PLACED, c.captured_at.between(_t0, _t1))
    return between.union_all(select(*before.c), select(*after.c))


_AROUND = _around()
# Replay candidates: the member's fixes with motion fields in the new fixes' band of latitude.
_CANDIDATES = select(
    c.latitude, c.longitude, c.local_date, c.accuracy_m, c.altitude_m, c.speed_mps, c.heading_deg
).where(
    _mine,
    c.latitude.between(bindparam("lo"), bindparam("hi")),
    or_(c.altitude_m.isnot(None), c.speed_mps.isnot(None), c.heading_deg.isnot(None)),
)
_WIFI = select(VillageAccessPoint.village_code, VillageAccessPoint.bssid).where(
    VillageAccessPoint.village_code.in_(select(Assignment.village_code).where(*_on_days))
)
