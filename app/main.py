"""The FastAPI application: routers of every domain under /api/v1, errors, middleware."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from app.audit.keys import signing_key
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.checkins.router import router as checkins_router
from app.compliance.router import router as compliance_router
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_session_factory
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.middleware import BodySizeLimitMiddleware, RequestIdMiddleware
from app.core.policy import Policy, load_policy
from app.core.router import health_router, policy_router
from app.leave.router import router as leave_router
from app.ledger.router import router as ledger_router
from app.org.router import router as org_router
from app.reports.dashboard_router import api_router as dashboard_router
from app.reports.dashboard_router import page_router as dashboard_page
from app.reports.router import router as reports_router

API_PREFIX = "/api/v1"


def _operation_id(route: APIRoute) -> str:
    # Stable ids for generated clients: "<tag>-<function name>".
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def create_app(settings: Settings | None = None, policy: Policy | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    if settings.env == "production":
        signing_key(settings)  # fail at start, not at the first export, without a key
    app = FastAPI(
        title="Zhucun API",
        version="1.0.0",
        summary="Geofenced check-ins and the presence ledger of village-resident officials",
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    engine = make_engine(settings.effective_database_url)
    app.state.settings = settings
    app.state.policy = policy or load_policy(settings.policy_file)
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)

    install_error_handlers(app)
    app.include_router(health_router)
    for router in (
        auth_router,
        org_router,
        policy_router,
        checkins_router,
        ledger_router,
        leave_router,
        compliance_router,
        audit_router,
        reports_router,
        dashboard_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(dashboard_page)

    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, snake_case; clients switch on it"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    # FastAPI's default 422 schema is not what we answer: point it at Problem.
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            resp = operation.get("responses", {}).get("422")
            if resp is not None:
                resp["content"] = {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }
                resp["description"] = "`validation_error`" + (
                    ", " + resp["description"]
                    if resp.get("description", "").startswith("`")
                    else ""
                )
    schemas = schema["components"]["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema
