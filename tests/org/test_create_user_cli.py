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
        db_url,
        "create-user",
        "--username=u1",
        "--password-stdin",
        f"--role={role}",
        input="long-enough-pw\n",
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
        "--password-stdin",
        "--role=township",
        f"--scope={scope}",
        input="long-enough-pw\n",
    )
    assert result.exit_code == 2
    assert "9-digit" in result.stderr
    assert users(db) == 0


def test_created_accounts_log_in(client, db_url):
    assert (
        zhucun(
            db_url,
            "create-user",
            "--username=root",
            "--password-stdin",
            "--role=admin",
            input="long-enough-pw\n",
        ).exit_code
        == 0
    )
    result = zhucun(
        db_url,
        "create-user",
        "--username=t1",
        "--password-stdin",
        "--role=township",
        "--scope=430121001",
        input="long-enough-pw\n",
    )
    assert result.exit_code == 0, result.output
    r = client.post("/api/v1/auth/token", data={"username": "t1", "password": "long-enough-pw"})
    assert r.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert (me.json()["role"], me.json()["scope"]) == ("township", "430121001")


def test_the_password_is_asked_for_twice_when_not_piped(client, db_url):
    asked = zhucun(
        db_url, "create-user", "--username=p1", "--role=admin", input="typed-pw-123\ntyped-pw-123\n"
    )
    assert asked.exit_code == 0, asked.output
    assert "typed-pw-123" not in asked.output  # hidden as typed
    r = client.post("/api/v1/auth/token", data={"username": "p1", "password": "typed-pw-123"})
    assert r.status_code == 200


def test_two_different_passwords_make_no_account(db_url, db):
    result = zhucun(
        db_url, "create-user", "--username=p2", "--role=admin", input="one-password\nanother-one\n"
    )
    assert result.exit_code != 0
    assert users(db) == 0


def test_the_password_is_never_an_argument(db_url, db):
    result = zhucun(
        db_url, "create-user", "--username=p3", "--password=on-the-command-line", "--role=admin"
    )
    assert result.exit_code == 2
    assert "No such option" in result.output + result.stderr
    assert users(db) == 0


def test_an_empty_standard_input_is_refused(db_url, db):
    result = zhucun(db_url, "create-user", "--username=p4", "--role=admin", "--password-stdin")
    assert result.exit_code == 2
    assert "standard input held no password" in result.stderr
    assert users(db) == 0
