"""A geometry column that is PostGIS `geometry(…, 4326)` on PostgreSQL and WKB on SQLite.

Python code only ever sees Shapely geometries; which storage is used is the dialect's business.
"""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2 import Geometry, WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SRID = 4326


class GeometryType(TypeDecorator[BaseGeometry]):
    impl = LargeBinary
    cache_ok = True
    # Read by GeoAlchemy2's PostgreSQL DDL hooks: the migrations make the GiST indexes.
    spatial_index = False
    use_N_D_index = False

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # GeoAlchemy2's DDL hooks ask with no dialect: answer "not a spatial column" so that they
        # leave the table alone (SQLite has no SpatiaLite here; indexes come from migrations).
        if dialect is not None and dialect.name == "postgresql":
            # spatial_index=False: migrations create the GiST indexes explicitly.
            return dialect.type_descriptor(
                Geometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        if dialect is None:
            return LargeBinary()
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return from_shape(value, srid=SRID)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            return to_shape(value)
        return shapely.from_wkb(bytes(value))
