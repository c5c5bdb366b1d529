"""A village's boundary as the API serves it: simplified to the policy's tolerance in metres.

A boundary is stored whole and the geofence matches check-ins against it whole; what a phone
or a map draws is the outline (`villages.outline_tolerance_m`, 5 m by default): a surveyed
boundary of a million vertices is 39 MB of GeoJSON whole and a few kilobytes simplified.

Outlines are kept per process, keyed by the boundary version (its row id and `valid_from`):
a changed boundary is a new version, so the key moves exactly when this village's boundary
does, and a database recreated under a running process (ids counting from 1 again) never
matches an old key. Simplifying takes about a second per million vertices, once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import URL
from sqlalchemy.orm import Session

from app.geo.simplify import simplify_metres
from app.org.models import VillageBoundary

_CACHE_SIZE = 1024
_cache: OrderedDict[tuple[URL, int, datetime, float], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()
# Called with the boundary version's id each time an outline is made (tests observe it).
simplify_observers: list[Callable[[int], None]] = []


def served_outline(
    session: Session, boundary: VillageBoundary, tolerance_m: float
) -> dict[str, Any]:
    """The GeoJSON geometry to serve for `boundary` (a version read in `session`; its
    geometry is only loaded when this process has no outline of it yet)."""
    if tolerance_m <= 0:  # served whole, as stored: not worth keeping a copy of
        return dict(mapping(boundary.boundary))
    key = (session.get_bind().engine.url, boundary.id, boundary.valid_from, tolerance_m)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    outline = dict(mapping(simplify_metres(boundary.boundary, tolerance_m)))
    for observe in simplify_observers:
        observe(boundary.id)
    with _lock:
        _cache[key] = outline
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return outline
