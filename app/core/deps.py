"""Request-scoped dependencies shared by every domain: the session, the policy, settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import read_only_engine, session_scope
from app.core.policy import Policy
from app.core.replica import Replica


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Services only flush; this is the one place that commits.
    """
    with session_scope(request.app.state.session_factory) as session:
        yield session


def reports_engine(request: Request) -> Engine:
    """Where reports read (read only, one snapshot per session): the replica
    (`ZHUCUN_REPORTS_DATABASE_URL`) while it is within its lag bound, else the primary
    (app.core.replica)."""
    primary: Engine = request.app.state.engine
    replica: Replica | None = getattr(request.app.state, "replica", None)
    return read_only_engine(primary) if replica is None else replica.engine_for_reports(primary)


def get_reports_session(request: Request) -> Iterator[Session]:
    """A read-only session for a report's reads, on `reports_engine`: one snapshot, never a
    write (the request's own session keeps its writes, on the primary)."""
    session = Session(reports_engine(request))
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def app_policy(request: Request) -> Policy:
    """The policy the app was created with (not `app.core.policy.get_policy`, which reads
    the environment)."""
    policy: Policy = request.app.state.policy
    return policy


def app_settings(request: Request) -> Settings:
    """The settings the app was created with (not `app.core.config.get_settings`)."""
    settings: Settings = request.app.state.settings
    return settings


# scope="function": commit before the response is sent, so a failed commit is an error response.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
ReportsSessionDep = Annotated[Session, Depends(get_reports_session, scope="function")]
PolicyDep = Annotated[Policy, Depends(app_policy)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
