"""Running `zhucun` in-process against a test database, and the real village data set."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.core.policy import get_policy
from tests.reference_data import YUNLIN_VILLAGES, require

YUNLIN = YUNLIN_VILLAGES
# Yunlin village_id is county(5) + town(2) + village(3), e.g. 1000911004. Our 12-digit codes:
# a made-up county 710900, township "0" + town (so each of the 4 towns is a township), village.
# 1000911004 -> 710900 011 004.
YUNLIN_COUNTY = "710900"
YUNLIN_TOWNSHIPS = {"710900011", "710900012", "710900014", "710900015"}


def zhucun(
    db_url: str, *args: str, policy_file: Path | None = None, input: str | None = None
) -> Result:
    """`zhucun ARGS` with DATABASE_URL pointing at the test database (and ZHUCUN_POLICY at
    `policy_file`, if given)."""
    env = {"DATABASE_URL": db_url, "ZHUCUN_POLICY": str(policy_file) if policy_file else None}
    # The CLI reads both through cached settings and policy.
    get_settings.cache_clear()
    get_policy.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args), env=env, input=input)
    finally:
        get_settings.cache_clear()
        get_policy.cache_clear()


def yunlin_code(village_id: str) -> str:
    return YUNLIN_COUNTY + "0" + village_id[5:]


@lru_cache
def _yunlin() -> dict[str, Any]:
    document = json.loads(require(YUNLIN).read_text(encoding="utf-8"))
    for feature in document["features"]:
        feature["properties"]["code"] = yunlin_code(feature["properties"]["village_id"])
    return document


def yunlin_collection() -> dict[str, Any]:
    """The 52 Yunlin villages with a `code` property (names are in `village`)."""
    return copy.deepcopy(_yunlin())


def write_geojson(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path
