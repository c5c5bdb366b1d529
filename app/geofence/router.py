"""Which village holds a point: the in-process index, held to the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep
from app.geo.coords import CoordSystem, to_wgs84
from app.geofence.cache import village_index
from app.geofence.schemas import LocateResult
from app.org import service as org_service

router = APIRouter(tags=["villages"])


@router.get("/villages/locate", response_model=LocateResult)
def locate_village(
    principal: CurrentPrincipal,
    session: SessionDep,
    latitude: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    longitude: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    coord_system: CoordSystem = "wgs84",
) -> LocateResult:
    """Which of the villages the caller may see holds a point (read-only: nothing is
    recorded); null for a point in no village or in one outside the caller's scope."""
    lon, lat = to_wgs84(longitude, latitude, coord_system)
    code = village_index(session).locate(lon, lat)
    village = None if code is None else org_service.visible_village(session, principal, code)
    if village is None:
        return LocateResult(village_code=None, village_name=None)
    return LocateResult(village_code=village.code, village_name=village.name)
