"""What "in scope" means for supervision: a division-code prefix within the caller's own."""

from __future__ import annotations

from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound

# Supervising users see by division code; members and unit users are answered elsewhere.
DIVISION_READERS = ("township", "county", "city", "auditor", "admin")


def prefix_for(principal: Principal, scope: str | None) -> str:
    """The division prefix a list is filtered by: `scope` when it lies within the caller's own
    (404 `scope_not_found` when it does not), else the caller's own."""
    own = principal.division_prefix
    if own is None:  # members and units see no division scope but their own data
        if scope:
            raise ScopeNotFound(scope=scope)
        raise RoleRequired(roles=", ".join(DIVISION_READERS))
    if not scope:
        return own
    if not is_prefix(scope):
        raise InvalidScope()
    if not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return scope
