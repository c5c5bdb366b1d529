"""Village boundaries from a GeoJSON FeatureCollection (`zhucun import-villages`).

`parse_villages` is pure: it checks every feature and returns either the accepted villages or
every problem, each naming its feature number (1-based position in the file). `apply_villages`
writes accepted villages in the caller's transaction, versioning boundaries that changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.text_fields import column_length, line_problem
from app.core.time import utcnow
from app.geo.coords import CoordSystem
from app.org.boundaries import bump_boundary_revision
from app.org.divisions import county_of, is_village_code, township_of
from app.org.importers.geometry import checked_boundary, same_boundary
from app.org.models import Village, VillageBoundary

_CHUNK = 500


class VillageFileError(Exception):
    """The file as a whole cannot be read as a GeoJSON FeatureCollection."""


@dataclass(frozen=True)
class Problem:
    feature: int
    reason: str

    def __str__(self) -> str:
        return f"feature {self.feature}: {self.reason}"


@dataclass(frozen=True)
class VillageFeature:
    feature: int
    code: str
    name: str
    boundary: MultiPolygon
    repaired: bool = False


@dataclass
class ParsedVillages:
    villages: list[VillageFeature] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportSummary:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    renamed: int = 0


def load_feature_collection(path: Path) -> list[Any]:
    """The `features` of the GeoJSON FeatureCollection in `path`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VillageFileError(f"cannot read {path} as GeoJSON: {exc}") from exc
    except RecursionError:
        # Arrays within arrays beyond the parser's depth: no geometry nests more than 4.
        raise VillageFileError(f"cannot read {path} as GeoJSON: it nests too deeply") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise VillageFileError("the file is not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise VillageFileError("the FeatureCollection has no list of features")
    return features


def parse_villages(
    features: list[Any],
    *,
    code_field: str = "code",
    name_field: str = "name",
    crs: CoordSystem = "wgs84",
    max_vertices: int | None = None,
    on_feature: Callable[[], None] | None = None,
) -> ParsedVillages:
    """Check every feature; boundaries come back as WGS84 MultiPolygons. A boundary of more
    than `max_vertices` (the policy's `villages.max_vertices`) is refused."""
    result = ParsedVillages()
    first_seen: dict[str, int] = {}
    fields = _Fields(code_field, name_field, crs, max_vertices)
    for number, feature in enumerate(features, start=1):
        code, village, reasons = _parse_feature(feature, fields, number)
        if code is not None:
            if code in first_seen:
                reasons.append(f"code {code} is a duplicate of feature {first_seen[code]}")
            else:
                first_seen[code] = number
        if village is not None and not reasons:
            result.villages.append(village)
        result.problems.extend(Problem(number, reason) for reason in reasons)
        if on_feature is not None:
            on_feature()
    return result


@dataclass(frozen=True)
class _Fields:
    code: str
    name: str
    crs: CoordSystem
    max_vertices: int | None


def _parse_feature(
    feature: Any, fields: _Fields, number: int
) -> tuple[str | None, VillageFeature | None, list[str]]:
    """(the code if it is one, the village if nothing is wrong, what is wrong)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None, None, ["not a GeoJSON Feature"]
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        properties = {}
    reasons: list[str] = []
    code = _code(properties.get(fields.code), fields.code, reasons)
    name = _name(properties.get(fields.name), fields.name, reasons)
    boundary, repaired, geometry_reason = checked_boundary(
        feature.get("geometry"), fields.crs, fields.max_vertices
    )
    if geometry_reason:
        reasons.append(geometry_reason)
    if reasons or code is None or boundary is None:
        return code, None, reasons
    return code, VillageFeature(number, code, name, boundary, repaired), reasons


def _name(value: Any, name_field: str, reasons: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        reasons.append(f"no name (property {name_field!r})")
        return ""
    name = value.strip()
    problem = line_problem(name, column_length(Village.name))
    if problem is not None:
        reasons.append(f"the name {problem}")
        return ""
    return name


def _code(value: Any, code_field: str, reasons: list[str]) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        reasons.append(f"no code (property {code_field!r})")
        return None
    code = value.strip()
    if not is_village_code(code):
        reasons.append(f"code {code!r} is not 12 digits")
        return None
    return code


def apply_villages(
    session: Session,
    villages: list[VillageFeature],
    now: datetime | None = None,
    on_village: Callable[[], None] | None = None,
) -> ImportSummary:
    """Create new villages, rename renamed ones, and version changed boundaries."""
    now = now or utcnow()
    codes = [v.code for v in villages]
    existing = {v.code: v for v in _in_chunks(session, Village, Village.code, codes)}
    open_versions = {
        b.village_code: b
        for b in _in_chunks(
            session,
            VillageBoundary,
            VillageBoundary.village_code,
            codes,
            VillageBoundary.valid_to.is_(None),
        )
    }
    summary = ImportSummary()
    for item in villages:
        village = existing.get(item.code)
        if village is None:
            session.add(
                Village(
                    code=item.code,
                    name=item.name,
                    township_code=township_of(item.code),
                    county_code=county_of(item.code),
                    created_at=now,
                )
            )
            summary.created += 1
        elif village.name != item.name:
            village.name = item.name
            summary.renamed += 1
        current = open_versions.get(item.code)
        if current is not None and same_boundary(current.boundary, item.boundary):
            if village is not None:
                summary.unchanged += 1
        else:
            if current is not None:
                current.valid_to = now
                # The open version must be closed before its successor is inserted (a partial
                # unique index allows one open version per village).
                session.flush()
            if village is not None:
                summary.changed += 1
            session.add(
                VillageBoundary(
                    village_code=item.code, boundary=item.boundary, valid_from=now, valid_to=None
                )
            )
        if on_village is not None:
            on_village()
    session.flush()
    if summary.created or summary.changed:
        bump_boundary_revision(session)
    return summary


def _in_chunks(
    session: Session, model: Any, column: Any, values: list[str], *criteria: Any
) -> Iterator[Any]:
    for chunk in _chunks(values, _CHUNK):
        yield from session.scalars(select(model).where(column.in_(chunk), *criteria))


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
