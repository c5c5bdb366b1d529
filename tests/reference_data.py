"""The reference data files in tests/data (provenance in tests/data/README.md).

A test that needs one of them calls `require`, which fails the test, rather than skipping it,
when the file is missing: a missing file is a broken checkout, not an optional feature.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent / "data"
YUNLIN_VILLAGES = DATA_DIR / "tw_yunlin_4towns_villages.geojson"
COORD_VECTORS = DATA_DIR / "coord_vectors.csv"


def require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"reference data {path} is missing (see tests/data/README.md)")
    return path
