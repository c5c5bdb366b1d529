"""A member's flow through the generated TypeScript client against the real server on
loopback (issue 23 item 7): sign in, check in, resend, a batch from the offline queue, a
single-flight refresh, the presence ledger and a leave request — clients/typescript/flow/
member-flow.ts, compiled with `tsc --strict` and run by node. Then what the server recorded is
checked here. Skipped without node and npm, except in CI (.ci/run)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.checkins.models import CheckIn
from app.leave.models import LeaveRequest
from tests.contract.test_typescript_client import _node_or_skip
from tests.live import live_server
from tests.world import PASSWORD, centre

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"

pytestmark = pytest.mark.node


def test_a_members_flow_through_the_generated_client(world, app, db):
    _node_or_skip()
    generated = subprocess.run(
        [str(ROOT / "scripts" / "generate-client")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    lon, lat = centre("430121001001")
    with live_server(app) as base:
        run = subprocess.run(
            ["npm", "run", "--silent", "flow"],
            cwd=CLIENT,
            env={
                **os.environ,
                "ZHUCUN_URL": base,
                "ZHUCUN_USER": "alice",
                "ZHUCUN_PASSWORD": PASSWORD,
                "ZHUCUN_LAT": str(lat),
                "ZHUCUN_LON": str(lon),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    alice = world.members["alice"].id

    assert seen["member_id"] == alice
    assert seen["checkin"]["status"] == 201
    assert seen["resend"] == {"status": 200, "id": seen["checkin"]["id"]}
    assert seen["batch"] == ["created", "created", "duplicate"]
    assert seen["refreshes"] == 1  # two calls met the expired token; one refresh served both
    assert seen["after_refresh"] == ["alice", "alice"]
    (today,) = seen["presence"]
    assert today["counted_checkins"] == 3
    assert seen["leave"]["status"] == "pending"

    db.expire_all()
    stored = db.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.member_id == alice))
    assert stored == 3  # the resend and the batch's repeat stored nothing
    leave = db.get(LeaveRequest, seen["leave"]["id"])
    assert leave is not None
    assert (leave.member_id, leave.start_date.isoformat()) == (alice, seen["leave"]["start_date"])
