"""GeoJSON geometry types (RFC 7946) for the boundaries the API answers with."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Position = Annotated[
    list[float],
    Field(min_length=2, max_length=3, description="[longitude, latitude] in WGS84 (经度, 纬度)"),
]
LinearRing = Annotated[
    list[Position], Field(min_length=4, description="closed: the last position is the first")
]


class Polygon(BaseModel):
    """A polygon: the outer ring, then any holes."""

    type: Literal["Polygon"]
    coordinates: list[LinearRing]


class MultiPolygon(BaseModel):
    """Several polygons (a village in parts)."""

    type: Literal["MultiPolygon"]
    coordinates: list[list[LinearRing]]


Geometry = Annotated[Polygon | MultiPolygon, Field(discriminator="type")]
