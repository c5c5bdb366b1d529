"""The app under benchmark: the product's app plus a bare baseline route that exists only here.

The baseline does the least a check-in endpoint can: authenticate the member, validate the
body, locate the village, INSERT one row (into a bench-only table), answer JSON. The product's
POST /checkins does that and idempotency, flags, the hash chain and the ledger update.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import current_principal
from app.auth.errors import RoleRequired
from app.checkins.router import BearerToken
from app.checkins.schemas import CheckInCreate
from app.core.db import session_scope
from app.core.time import utcnow
from app.geo.coords import to_wgs84
from app.geofence.cache import village_index
from app.main import create_app

BARE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_bare_checkins (
    id {pk},
    member_id INTEGER NOT NULL,
    client_id VARCHAR(36) NOT NULL,
    captured_at TIMESTAMP WITH TIME ZONE NOT NULL,
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION NOT NULL,
    village_code VARCHAR(12)
)
"""
_INSERT = text(
    "INSERT INTO bench_bare_checkins (member_id, client_id, captured_at, received_at, latitude,"
    " longitude, accuracy_m, village_code) VALUES (:member_id, :client_id, :captured_at,"
    " :received_at, :latitude, :longitude, :accuracy_m, :village_code) RETURNING id"
)


def create_bench_app() -> FastAPI:
    """`uvicorn --factory bench.bench_app:create_bench_app`: the product app plus /bench/bare."""
    app = create_app()
    if os.environ.get("BENCH_NO_LEDGER"):
        # Only to measure what the ledger update costs a check-in: the same server without it.
        from app.ledger import service as ledger_service

        def _skip(*_args: object, **_kwargs: object) -> None:
            return None

        ledger_service.refresh_days = _skip  # type: ignore[assignment]
        ledger_service.refresh_days_locked = _skip  # type: ignore[assignment]
        # A check-in on PostgreSQL refreshes its day in its INSERT statement: the plain one.
        from app.checkins import service as checkins_service

        checkins_service._INSERT_ADVANCE_AND_REFRESH = checkins_service._INSERT_AND_ADVANCE

    app.add_api_route(
        "/bench/bare", bare_checkin, methods=["POST"], status_code=201, include_in_schema=False
    )
    return app


async def bare_checkin(request: Request, body: CheckInCreate, token: BearerToken) -> Response:
    # The same request plumbing as POST /checkins (one worker-thread hop, one transaction,
    # the same authentication), so that the two differ only in the work done.
    return await run_in_threadpool(_bare, request, body, token)


def _bare(request: Request, body: CheckInCreate, token: str | None) -> Response:
    with session_scope(request.app.state.session_factory) as session:
        principal = current_principal(request, session, request.app.state.settings, token)
        if principal.role != "member":
            raise RoleRequired(roles="member")
        lon, lat = to_wgs84(body.longitude, body.latitude, body.coord_system)
        code = village_index(session).locate(lon, lat)
        row: dict[str, Any] = {
            "member_id": principal.member_id,
            "client_id": str(body.client_id),
            "captured_at": body.captured_at,
            "received_at": utcnow(),
            "latitude": lat,
            "longitude": lon,
            "accuracy_m": body.accuracy_m,
            "village_code": code,
        }
        new_id = session.execute(_INSERT, row).scalar_one()
    return JSONResponse(
        {"id": new_id, "client_id": row["client_id"], "village_code": code}, status_code=201
    )
