"""Request-scoped dependencies shared by every domain: the session, the policy, settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.db import session_scope
from app.core.policy import Policy


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Services only flush; this is the one place that commits.
    """
    with session_scope(request.app.state.session_factory) as session:
        yield session


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
PolicyDep = Annotated[Policy, Depends(app_policy)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
