"""The FastAPI application: routers of every domain under /api/v1, errors, middleware."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.audit.keys import signing_key
from app.audit.router import router as audit_router
from app.auth.router import audit_router as login_log_router
from app.auth.router import router as auth_router
from app.auth.router import users_router
from app.checkins.fast_path import open_uploads
from app.checkins.router import router as checkins_router
from app.compliance.router import router as compliance_router
from app.contract import build_openapi, operation_id
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_session_factory, shown_url
from app.core.docs import install_docs
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.middleware import BodySizeLimitMiddleware, NoCorsMiddleware, RequestIdMiddleware
from app.core.outage import DatabaseOutageMiddleware, watch_engine
from app.core.policy import Policy, load_policy
from app.core.problem_pages import router as problem_pages
from app.core.replica import open_replica
from app.core.router import health_router
from app.core.scratch import ScratchFolder
from app.geofence.router import router as geofence_router
from app.households.router import public_router as households_public_router
from app.households.router import router as households_router
from app.leave.router import router as leave_router
from app.ledger.router import router as ledger_router
from app.notify.worker import start_notifier
from app.org.router import router as org_router
from app.pages.router import router as pages_router
from app.policy.router import router as policy_router
from app.privacy.router import router as privacy_router
from app.reports.dashboard_router import api_router as dashboard_router
from app.reports.dashboard_router import page_router as dashboard_page
from app.reports.router import router as reports_router
from app.rollup.router import router as rollup_router
from app.supervision import roll_calls
from app.supervision.router import router as supervision_router
from app.surveys.router import public_router as public_surveys_router
from app.surveys.router import router as surveys_router

API_PREFIX = "/api/v1"
log = logging.getLogger("zhucun")


@asynccontextmanager
async def _database_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The engine lives as long as the served app: made on start-up (not when the module is
    imported), disposed on shutdown so that pooled connections are closed."""
    settings: Settings = app.state.settings
    # What this process serves, so that a misdirected start shows in the first lines of its log.
    log.info(
        "starting",
        extra={
            "database": shown_url(settings.effective_database_url),
            "policy": str(settings.policy_file or "built-in defaults"),
        },
    )
    engine = make_engine(settings.effective_database_url)
    watch_engine(engine)  # a lost connection answers 503, and its pool is renewed
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    replica = app.state.replica = open_replica(
        settings.reports_database_url, settings.reports_max_lag_s
    )
    # Its own reference: a test may run this app's lifespan twice at once, each on its loop.
    uploads = app.state.uploads = await open_uploads(engine, settings, app.state.policy)
    _remove_dead_exports(app.state.exports)
    notifier = app.state.notifier = start_notifier(
        engine, app.state.session_factory, settings, app.state.policy
    )
    _leave_startup_objects_to_themselves()
    try:
        yield
    finally:
        if notifier is not None:
            notifier.stop()
        if uploads is not None:
            await uploads.close()
        if replica is not None:
            replica.dispose()
        engine.dispose()


def _remove_dead_exports(folder: ScratchFolder) -> None:
    """Exports that processes killed mid-export left behind (member names): gone at start-up;
    a sibling worker's in-flight export is left alone (app.core.scratch)."""
    removed = folder.prepare()
    if removed:
        logging.getLogger("zhucun.exports").info(
            "removed exports left by dead processes",
            extra={"folder": str(folder.root), "removed": len(removed)},
        )


def _leave_startup_objects_to_themselves() -> None:
    """Once per process, after start-up: what is alive now (modules, schemas, compiled
    statements — most of the process's objects, all long-lived) is left out of the garbage
    collector's passes. A full pass over them paused every request for about 100 ms, a few
    times a minute under load: the p99 of check-ins (bench/checkins_bench.py)."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None, policy: Policy | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    if settings.env == "production":
        signing_key(settings)  # fail at start, not at the first export, without a key
    app = FastAPI(
        title="Zhucun API",
        version="1.0.0",
        summary="Geofenced check-ins and the presence ledger of village-resident officials",
        docs_url=None,  # served from the installed package below, never from a CDN
        redoc_url=None,
        generate_unique_id_function=operation_id,
        lifespan=_database_lifespan,
    )
    app.state.settings = settings
    app.state.policy = policy or load_policy(settings.policy_file)
    app.state.exports = ScratchFolder(settings.effective_export_dir)
    # Supervision judges check-ins that answer a roll call (checkins cannot import it).
    app.state.roll_call_judge = roll_calls.answer_statuses

    install_error_handlers(app)
    if settings.docs_enabled:
        install_docs(app, app.openapi_url or "/openapi.json")
    app.include_router(health_router)
    for router in (
        # First: routes are matched in order, router by router, and phones post check-ins
        # far more often than anything else is asked (no other router's path starts so).
        checkins_router,
        auth_router,
        users_router,
        geofence_router,  # before org's /villages/{code}, which would take "locate"
        org_router,
        policy_router,
        ledger_router,
        leave_router,
        supervision_router,
        households_router,
        households_public_router,
        surveys_router,
        public_surveys_router,
        compliance_router,
        audit_router,
        login_log_router,
        reports_router,
        dashboard_router,
        privacy_router,
        rollup_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(dashboard_page)
    app.include_router(pages_router)
    app.include_router(problem_pages)

    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    else:
        app.add_middleware(NoCorsMiddleware)
    app.add_middleware(DatabaseOutageMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware, trusted_proxies=settings.trusted_proxies)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        app.openapi_schema = build_openapi(app)
    return app.openapi_schema
