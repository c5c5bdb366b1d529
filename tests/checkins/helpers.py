"""Building check-in bodies for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.world import centre


def fix(
    village: str = "430121001001",
    *,
    at: datetime | None = None,
    ago: timedelta = timedelta(minutes=1),
    dlon: float = 0.0,
    dlat: float = 0.0,
    **fields: Any,
) -> dict[str, Any]:
    """A check-in body at a village's centre (shifted by dlon/dlat degrees)."""
    lon, lat = centre(village)
    when = at if at is not None else datetime.now(UTC) - ago
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "captured_at": when.isoformat(),
        "latitude": lat + dlat,
        "longitude": lon + dlon,
        "accuracy_m": 10.0,
    }
    body.update(fields)
    return body
