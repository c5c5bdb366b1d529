"""Who reads the national rollup, and which provinces they see."""

from __future__ import annotations

from sqlalchemy import Connection

from app.auth.principal import Principal
from app.org.errors import ScopeNotFound
from app.rollup import service
from app.rollup.errors import RollupNotConfigured

# The readers of on-post rates and the map. A caller sees the provinces whose code starts with
# their division prefix: admin and a national auditor (scope "") every province, an auditor of
# province 43 that one; a city (4301) sees a publisher only if one publishes as 4301.
READERS = ("township", "county", "city", "auditor", "admin")


def prefix(principal: Principal, scope: str | None) -> str:
    """The caller's prefix narrowed to `scope`; a scope outside it is 404 scope_not_found."""
    own = principal.division_prefix or ""
    if scope is None:
        return own
    if not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return scope


def configured(connection: Connection) -> Connection:
    """`connection`, if its database holds the rollup's tables; else 409."""
    if not service.configured(connection):
        raise RollupNotConfigured()
    return connection
