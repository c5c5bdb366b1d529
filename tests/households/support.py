"""Households for tests: a CSV made from rows, imported through the API, and visit bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

HEADER = (
    "household_code,village_code,head_name,address,latitude,longitude,coord_system,"
    "category,risk,phone,member_username,paired_from"
)
VILLAGE = "430121001001"


def point(i: int, village: str = VILLAGE) -> tuple[float, float]:
    """(lon, lat) of the i-th household of a test village (inside its 0.02° square)."""
    from tests.world import VILLAGES

    lon0 = VILLAGES[village][1]
    return lon0 + 0.004 + 0.003 * (i % 4), 28.304 + 0.003 * (i // 4)


def row(
    code: str,
    i: int,
    member: str | None,
    paired_from: date | None,
    *,
    village: str = VILLAGE,
    risk: str = "key",
    category: str = "脱贫户",
    phone: str = "13812345678",
    at: tuple[float, float] | None = None,
) -> str:
    lon, lat = at or point(i, village)
    return ",".join(
        [
            code,
            village,
            f"户主{i}",
            f"{village}村{i}组",
            f"{lat:.6f}",
            f"{lon:.6f}",
            "wgs84",
            category,
            risk,
            phone,
            member or "",
            paired_from.isoformat() if paired_from else "",
        ]
    )


def csv_of(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def import_csv(world: Any, data: bytes, user: str = "county") -> Any:
    return world.client.post(
        "/api/v1/households/import",
        content=data,
        headers={**world.headers(user), "Content-Type": "text/csv"},
    )


def households_by_code(world: Any, user: str = "county") -> dict[str, dict[str, Any]]:
    r = world.get(user, "/households?limit=500")
    assert r.status_code == 200, r.text
    return {h["household_code"]: h for h in r.json()["items"]}


def visit(
    household: dict[str, Any],
    *,
    ago: timedelta = timedelta(minutes=2),
    dlat: float = 0.0,
    accuracy: float = 10.0,
    **fields: Any,
) -> dict[str, Any]:
    lon, lat = household["location"]["coordinates"]
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "household_id": household["id"],
        "captured_at": (datetime.now(UTC) - ago).isoformat(),
        "latitude": lat + dlat,
        "longitude": lon,
        "accuracy_m": accuracy,
        "topics": ["income"],
        "note": "走访",
        "problems_found": False,
    }
    body.update(fields)
    return body


def token_of(offer: dict[str, Any]) -> str:
    return str(offer["url"]).rsplit("/", 1)[1]


def answer(
    world: Any,
    token: str,
    *,
    confirmed: bool = True,
    knows: bool = True,
    satisfaction: int | None = 5,
    user_agent: str = "household-phone",
) -> Any:
    body = {"confirmed": confirmed, "knows_member": knows, "satisfaction": satisfaction}
    return world.client.post(
        f"/api/v1/public/countersign/{token}", json=body, headers={"User-Agent": user_agent}
    )
