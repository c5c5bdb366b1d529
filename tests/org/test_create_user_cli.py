"""`zhucun create-user`: scopes are required and checked, and the account can log in."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from tests.org.helpers import zhucun


def users(db):
    n = db.scalar(select(func.count()).select_from(User))
    db.commit()
    return n


@pytest.mark.parametrize("role", ["township", "county", "city", "unit", "auditor"])
def test_scope_is_required_for_every_role_but_admin(db_url, db, role):
    result = zhucun(
        db_url, "create-user", "--username=u1", "--password=long-enough-pw", f"--role={role}"
    )
    assert result.exit_code == 2
    assert "--scope is required" in result.stderr
    assert users(db) == 0


@pytest.mark.parametrize("scope", ["43012100", "4301210011", "43012100a"])
def test_a_township_scope_is_nine_digits(db_url, db, scope):
    result = zhucun(
        db_url,
        "create-user",
        "--username=t1",
        "--password=long-enough-pw",
        "--role=township",
        f"--scope={scope}",
    )
    assert result.exit_code == 2
    assert "9-digit" in result.stderr
    assert users(db) == 0


def test_created_accounts_log_in(client, db_url):
    assert (
        zhucun(
            db_url, "create-user", "--username=root", "--password=long-enough-pw", "--role=admin"
        ).exit_code
        == 0
    )
    result = zhucun(
        db_url,
        "create-user",
        "--username=t1",
        "--password=long-enough-pw",
        "--role=township",
        "--scope=430121001",
    )
    assert result.exit_code == 0, result.output
    r = client.post("/api/v1/auth/token", data={"username": "t1", "password": "long-enough-pw"})
    assert r.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert (me.json()["role"], me.json()["scope"]) == ("township", "430121001")
