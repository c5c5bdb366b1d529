"""A village's known Wi-Fi access points: registered by township users and up, read by the
check-in judgement to corroborate a fix (mock-location apps move the GPS, not the radio)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.models import VillageAccessPoint
from app.org.service import get_visible_village


def list_access_points(
    session: Session, principal: Principal, village_code: str
) -> list[VillageAccessPoint]:
    get_visible_village(session, principal, village_code)  # 404 outside the caller's scope
    return list(
        session.scalars(
            select(VillageAccessPoint)
            .where(VillageAccessPoint.village_code == village_code)
            .order_by(VillageAccessPoint.id)
        )
    )


def register_access_point(
    session: Session,
    principal: Principal,
    village_code: str,
    bssid: str,
    label: str,
    at: datetime,
) -> tuple[VillageAccessPoint, bool]:
    """Register (or find registered) an access point of the village: (it, created)."""
    get_visible_village(session, principal, village_code)
    query = select(VillageAccessPoint).where(
        VillageAccessPoint.village_code == village_code, VillageAccessPoint.bssid == bssid
    )
    found = session.scalar(query)
    if found is not None:
        return found, False
    point = VillageAccessPoint(
        village_code=village_code,
        bssid=bssid,
        label=label,
        registered_by=principal.user_id,
        registered_at=at,
    )
    # A concurrent registration of the same point meets the unique constraint: the savepoint
    # keeps the request's transaction usable, and the winner's row is answered.
    try:
        with session.begin_nested():
            session.add(point)
            session.flush()
    except IntegrityError:
        return session.scalars(query).one(), False
    return point, True


def registered_bssids(session: Session, village_codes: Iterable[str]) -> dict[str, set[str]]:
    """The registered access points of these villages, by village."""
    codes = set(village_codes)
    out: dict[str, set[str]] = {code: set() for code in codes}
    if not codes:
        return out
    rows = session.execute(
        select(VillageAccessPoint.village_code, VillageAccessPoint.bssid).where(
            VillageAccessPoint.village_code.in_(codes)
        )
    )
    for code, bssid in rows:
        out[code].add(bssid)
    return out
