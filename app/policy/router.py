"""`GET /policy`: the effective policy, so that apps can explain the rules."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.dependencies import CurrentPrincipal
from app.auth.errors import InvalidTokenError
from app.core.deps import PolicyDep
from app.core.errors import NotAuthenticated, error_responses
from app.core.policy import Policy

router = APIRouter(tags=["policy"])


@router.get(
    "/policy",
    response_model=Policy,
    operation_id="getPolicy",
    responses=error_responses(NotAuthenticated, InvalidTokenError),
)
def effective_policy(policy: PolicyDep, _principal: CurrentPrincipal) -> Policy:
    """The rules in force here (quota, day rule, geofence tolerance, leave tiers, flags).
    Not a public route (API.md): any signed-in caller."""
    return policy
