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


class ReadyOut(BaseModel):
    status: Literal["ready"] = Field(description="the database answers")


@health_router.get("/healthz", response_model=HealthOut)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@health_router.get(
    "/readyz", response_model=ReadyOut, responses=error_responses(DatabaseUnavailable)
)
def readyz(request: Request) -> JSONResponse:
    """The database answers."""
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
    return JSONResponse({"status": "ready"})
