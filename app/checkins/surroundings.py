"""What new fixes are judged by: the member's assignments and their boundary versions (with
the office of the member's dispatching unit), the fixes stored around them in capture order,
the fixes they may replay, the registered Wi-Fi of the assigned villages, and other members'
fixes sent from the same devices. Read in one round trip for one fix or a batch, and kept up
to date in memory as each fix of a batch is judged."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import String, Table, any_, bindparam, or_, select, text, union_all
from sqlalchemy.dialects import postgresql

from app.checkins import rules
from app.checkins.models import CheckIn
from app.checkins.schemas import CheckInCreate
from app.core.policy import Policy
from app.core.roundtrip import Answer, RoundTrip
from app.core.time import as_utc
from app.org.models import Assignment, Member, Unit, VillageAccessPoint, VillageBoundary

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
    devices: tuple[str, ...] = ()  # the device_ids the fixes carry, sorted

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
            devices=tuple(sorted({p.body.device_id for p in fixes if p.body.device_id})),
        )


@dataclass(frozen=True, slots=True)
class Office:
    """The office of the member's dispatching unit (WGS84) and its radius."""

    latitude: float
    longitude: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class DeviceUse:
    """A stored fix of another member sent from one of the new fixes' devices."""

    member_id: int
    full_name: str
    checkin_id: int
    captured_at: datetime
    local_date: date  # the fix's (its findings are partitioned by it)


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
    office: Office | None = None
    own_name: str = ""  # the member's (from an assignment row; else their id)
    # Other members' fixes from the new fixes' devices, by device, in capture order.
    device_uses: dict[str, list[DeviceUse]] = field(default_factory=dict)
    # `shared_device` findings to record beside those fixes (checkin_findings rows), by fix.
    shared_findings: dict[int, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def queue(
        trip: RoundTrip, policy: Policy, member_id: int, span: Span, *, devices: bool = True
    ) -> _Loading:
        """Queue the reads on `trip`; `build()` the surroundings once it has run. With
        `devices` false the device reads are left to `_Loading.queue_devices`, after every
        chain head of a group is locked (fast_path)."""
        days = {"m": member_id, "lo": span.first_day, "hi": span.last_day}
        times = {"m": member_id, "t0": span.earliest, "t1": span.latest}
        margin, _ = rules.replay_box(0.0, policy.flags.repeat_tolerance_m)
        band = {"m": member_id, "lo": span.low_lat - margin, "hi": span.high_lat + margin}
        loading = _Loading(
            policy,
            trip.add(_ASSIGNMENTS, days),
            trip.add(_AROUND, times),
            trip.add(_CANDIDATES, band) if span.motion else None,
            trip.add(_WIFI, days) if span.wifi else None,
        )
        if devices:
            lock_devices(trip, span.devices)
            loading.queue_devices(trip, member_id, span)
        return loading

    def shared(self, device: str | None, at: datetime) -> list[DeviceUse]:
        """Other members' fixes from `device` within `shared_device_days` of `at`."""
        if device is None:
            return []
        window = timedelta(days=self.policy.flags.shared_device_days)
        return [u for u in self.device_uses.get(device, ()) if abs(u.captured_at - at) <= window]

    def note_shared(
        self, uses: list[DeviceUse], evidence: dict[str, Any], day: date, at: datetime
    ) -> None:
        """Keep the `shared_device` findings to record beside the other members' fixes."""
        for use in uses:
            self.shared_findings.setdefault(
                use.checkin_id,
                {
                    "checkin_id": use.checkin_id,
                    "code": SHARED_DEVICE,
                    "matched_date": day,
                    "evidence": evidence,
                    "found_at": at,
                    "local_date": use.local_date,
                },
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


SHARED_DEVICE = "shared_device"


def lock_devices(trip: RoundTrip, devices: Sequence[str]) -> None:
    """PostgreSQL: take the transaction's advisory lock of each device (in sorted order, after
    the chain heads), so that two members uploading from one device at once are judged one
    after the other: the second sees the first's fix. SQLite writers are serial already."""
    if devices and trip.dialect_name == "postgresql":
        trip.add(_LOCK_DEVICES, {"keys": [f"device:{d}" for d in sorted(devices)]})


@dataclass(slots=True)
class _Loading:
    policy: Policy
    assignments: Answer
    around: Answer
    candidates: Answer | None
    wifi: Answer | None
    devices: Answer | None = None

    def queue_devices(self, trip: RoundTrip, member_id: int, span: Span) -> None:
        """Queue the read of other members' fixes from the span's devices (one indexed query:
        two ranges of `ix_checkins_device` either side of the member)."""
        if not span.devices:
            return
        window = timedelta(days=self.policy.flags.shared_device_days)
        params = {
            "m": member_id,
            "devices": list(span.devices),
            "t0": span.earliest - window,
            "t1": span.latest + window,
        }
        pg = trip.dialect_name == "postgresql"
        self.devices = trip.add(_DEVICE_USES_ANY if pg else _DEVICE_USES_IN, params)

    def build(self) -> Surroundings:
        spans = [(start, end, code) for start, end, code, *_ in self.assignments.rows]
        boundary_ids = {
            code: bid for _, _, code, bid, *_ in self.assignments.rows if bid is not None
        }
        office = next(
            (
                Office(lat, lon, radius)
                for *_, lat, lon, radius in self.assignments.rows
                if radius is not None
            ),
            None,
        )
        uses: dict[str, list[DeviceUse]] = {}
        for device, member, name, checkin_id, at, day in sorted(
            self.devices.rows if self.devices else (), key=lambda row: (row[4], row[3])
        ):
            uses.setdefault(device, []).append(DeviceUse(member, name, checkin_id, as_utc(at), day))
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
            office=office,
            own_name=next((row[4] for row in self.assignments.rows), ""),
            device_uses=uses,
        )


_mine = c.member_id == bindparam("m")
_on_days = (
    Assignment.member_id == bindparam("m"),
    Assignment.start_date <= bindparam("hi"),
    or_(Assignment.end_date.is_(None), Assignment.end_date >= bindparam("lo")),
)
# With the office of the member's unit on every row (primary-key joins): a fix with no
# assignment on its day is never judged at the office - the member owes the village nothing.
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
        Member.full_name,
        Unit.office_latitude,
        Unit.office_longitude,
        Unit.office_radius_m,
    )
    .join(Member, Member.id == Assignment.member_id)
    .join(Unit, Unit.id == Member.unit_id)
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


# Other members' fixes from these devices in the window: the member's own fixes (most of the
# device's) are never read - the two branches are the index's ranges below and above them.
def _device_uses(devices: Any) -> Any:
    t0 = bindparam("t0", type_=c.captured_at.type)
    t1 = bindparam("t1", type_=c.captured_at.type)

    def side(other: Any) -> Any:
        return (
            select(c.device_id, c.member_id, Member.full_name, c.id, c.captured_at, c.local_date)
            .join(Member, Member.id == c.member_id)
            .where(devices, other, c.captured_at.between(t0, t1))
            .limit(_MAX_DEVICE_USES)
        )

    below = side(c.member_id < bindparam("m")).subquery()
    above = side(c.member_id > bindparam("m")).subquery()
    return union_all(select(*below.c), select(*above.c))


_MAX_DEVICE_USES = 500  # per side: enough to name the members and find their fixes
_DEVICE_USES_ANY = _device_uses(
    c.device_id == any_(bindparam("devices", type_=postgresql.ARRAY(String())))
)
_DEVICE_USES_IN = _device_uses(c.device_id.in_(bindparam("devices", expanding=True)))
# The keys in the order given (sorted): unnest yields an array's elements in order.
_LOCK_DEVICES = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(CAST(:keys AS text[])) AS k"
)
