"""Schemathesis against the running service (uvicorn on loopback), on this run's backend.

Every operation, all checks, a bounded number of examples (ZHUCUN_ST_EXAMPLES, default 8) so
the test stays near a minute per backend; `bench/schemathesis_run.py` is the long run. Callers
rotate through the roles (tests/contract/schemathesis_hooks.py) over a seeded world: members
with check-ins and leave. Passing means zero 5xx and every response as the schema says.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.auth.models import AuthSession
from app.core.security import TokenClaims, issue_token
from tests.checkins.helpers import fix
from tests.contract.refusing_wechat import refusing_wechat
from tests.loopback import serving
from tests.world import SECRET

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
ROLES = ["alice", "township1", "county", "city", "unit", "auditor", "admin"]
EXAMPLES = int(os.environ.get("ZHUCUN_ST_EXAMPLES", "8"))
SPARE_SESSIONS = 60


@pytest.fixture
def wechat_api() -> Iterator[str]:
    with refusing_wechat() as base:
        yield base


def _seed(world: Any) -> None:
    """Records for generated ids to land on: check-ins and leave of two members."""
    for who, village in (("alice", "430121001001"), ("bob", "430121001002")):
        r = world.post(who, "/checkins", json=fix(village))
        assert r.status_code in (200, 201), r.text
        r = world.post(
            who,
            "/leave-requests",
            json={
                "type": "personal",
                "start_date": "2026-12-20",
                "end_date": "2026-12-21",
                "reason": "家中有事",
            },
        )
        assert r.status_code == 201, r.text


def _spare_tokens(world: Any) -> list[str]:
    """Sessions of their own for logout and password change (see the hooks)."""
    user = world.add_user("spare", "auditor", "43")
    tokens = []
    for n in range(SPARE_SESSIONS):
        sid = f"spare{n:027d}"
        world.db.add(
            AuthSession(
                id=sid,
                user_id=user.id,
                method="password",
                user_agent="st",
                created_at=user.created_at,
            )
        )
        tokens.append(issue_token(TokenClaims(user.id, user.role, user.scope, sid), SECRET, 3600))
    world.db.commit()
    return tokens


@pytest.mark.slow
def test_every_operation_holds_to_the_schema(
    settings, policy, world, wechat_api, tmp_path, record_property
):
    from app.main import create_app

    _seed(world)
    spare = _spare_tokens(world)
    configured = settings.model_copy(
        update={"wechat_appid": "wx-st", "wechat_secret": "s", "wechat_api_base": wechat_api}
    )
    app = create_app(configured, policy)
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "ZHUCUN_ST_TOKENS": json.dumps({who: world.token(who) for who in ROLES}),
        "ZHUCUN_ST_SPARE": json.dumps(spare),
        "NO_COLOR": "1",
    }
    started = time.monotonic()
    with serving(app) as base:
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                # Stood in for by the hooks' check: domain refusals are not schema drift.
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                str(EXAMPLES),
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    took = time.monotonic() - started
    if os.environ.get("ZHUCUN_ST_LOG"):
        Path(os.environ["ZHUCUN_ST_LOG"]).write_text(run.stdout + run.stderr)
    summary = re.search(r"(\d+) generated", run.stdout)
    line = f"schemathesis: {summary.group(0) if summary else '?'} in {took:.0f}s"
    record_property("schemathesis", line)
    sys.stderr.write(line + "\n")  # seen with -s
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "Tested: " in run.stdout, run.stdout
