"""Operational endpoints (`/healthz`, `/readyz`). `GET /policy` is app.policy's: it needs a
signed-in caller, and app.core imports nothing from the domains above it."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.core.errors import error_responses, problem_response
from app.core.outage import RETRY_AFTER_SECONDS, DatabaseUnavailable

health_router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReportsOut(BaseModel):
    on: Literal["replica", "primary"] = Field(
        description="where reports read now: the replica while within its lag bound"
    )
    lag_s: float | None = Field(
        description="the replica's lag behind the primary, seconds; null: it does not answer"
    )
    max_lag_s: float = Field(description="ZHUCUN_REPORTS_MAX_LAG_S")


class ReadyOut(BaseModel):
    status: Literal["ready"] = Field(description="the database answers")
    reports: ReportsOut | None = Field(
        None, description="with ZHUCUN_REPORTS_DATABASE_URL: the reports' replica"
    )


@health_router.get("/healthz", response_model=HealthOut)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@health_router.get(
    "/readyz", response_model=ReadyOut, responses=error_responses(DatabaseUnavailable)
)
def readyz(request: Request) -> JSONResponse:
    """The database answers; with a reports replica, its lag and where reports read."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return problem_response(
            request,
            status=503,
            code="database_unavailable",
            title="Database unavailable",
            detail="The database did not answer.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    body: dict[str, object] = {"status": "ready"}
    replica = getattr(request.app.state, "replica", None)
    if replica is not None:  # a replica out of bound is not unready: reports use the primary
        state = replica.state()
        body["reports"] = {
            "on": state.reports_on,
            "lag_s": None if state.lag_s is None else round(state.lag_s, 3),
            "max_lag_s": replica.max_lag_s,
        }
    return JSONResponse(body)
