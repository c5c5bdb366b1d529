"""The app's route table, flattened: FastAPI ≥0.16x keeps included routers as branches of
`app.routes` (`_IncludedRouter`), so a walk over `app.routes` no longer sees their routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, compile_path


@dataclass(frozen=True)
class RouteEntry:
    path: str  # as served, with the prefix of every router it was included under
    path_format: str  # the same, as OpenAPI names it ("{name}" without a converter)
    methods: frozenset[str]
    route: BaseRoute  # the route as declared (an APIRoute for our endpoints)


def route_table(app: FastAPI) -> Iterator[RouteEntry]:
    for context in iter_route_contexts(app.router.routes):
        path = context.path
        if path is None:
            continue
        yield RouteEntry(
            path,
            context.path_format or path,
            frozenset(context.methods or ()),
            context.original_route,
        )


@lru_cache(maxsize=256)
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def methods_at(app: FastAPI, path: str) -> set[str]:
    """Every method some route serves at `path` (a request's path)."""
    methods: set[str] = set()
    for entry in route_table(app):
        if _path_regex(entry.path).match(path):
            methods |= entry.methods
    return methods
