"""Villages of an import that overlap other villages (`zhucun import-villages`).

Neighbouring villages share edges; digitised by different hands they overlap a little along
them. More than the policy's share (`villages.max_overlap_share` of the smaller village's
area, 5% by default) is a mistake in the file: a wrong code, a township outline filed as a
village, the same village twice under two codes. Such an import is refused with the
villages named, unless the operator says the overlap is meant (`--allow-overlap`).

A village is compared with every other village as it will be after the import: the file's
boundaries, and the stored current boundaries of villages the file leaves alone. A village
the file gives a new boundary is not compared with its own old one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app.org.importers.villages import VillageFeature
from app.org.service import current_boundaries


@dataclass(frozen=True)
class Overlap:
    feature: int
    code: str
    other_code: str
    other_feature: int | None  # None: a village already stored
    share: float  # of the smaller village's area

    def __str__(self) -> str:
        other = (
            f"village {self.other_code} (stored)"
            if self.other_feature is None
            else f"feature {self.other_feature} ({self.other_code})"
        )
        return (
            f"feature {self.feature} ({self.code}) overlaps {other} by {self.share:.1%} of "
            "the smaller village's area"
        )


def find_overlaps(
    session: Session, villages: list[VillageFeature], max_share: float
) -> list[Overlap]:
    """Every pair of the file's villages, or of one of them and a stored village, that
    overlaps by more than `max_share`. Call with the boundaries locked
    (`app.org.boundaries.lock_boundaries`): another import must not slip one in between
    this read and the caller's write."""
    if not villages:
        return []
    in_file = {v.code for v in villages}
    stored = [(code, geom) for code, geom in current_boundaries(session) if code not in in_file]
    shapes: list[BaseGeometry] = [v.boundary for v in villages] + [g for _, g in stored]
    codes = [v.code for v in villages] + [code for code, _ in stored]
    # Areas in square degrees: only ratios of neighbours' areas are used, and one scale
    # holds across a few kilometres.
    areas = shapely.area(np.array(shapes, dtype=object))
    tree = shapely.STRtree(shapes)
    found: list[Overlap] = []
    for i, village in enumerate(villages):
        for j in sorted(int(j) for j in tree.query(village.boundary, predicate="intersects")):
            if j <= i:
                continue  # itself, or a pair of the file's already seen from the other side
            smaller = min(areas[i], areas[j])
            if smaller <= 0:
                continue
            share = float(shapely.intersection(village.boundary, shapes[j]).area / smaller)
            if share > max_share:
                other_feature = villages[j].feature if j < len(villages) else None
                found.append(Overlap(village.feature, village.code, codes[j], other_feature, share))
    return found
