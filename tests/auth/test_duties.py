"""Separation of duties (三员分立, issue 21 item 7): under `separation_of_duties` no account may
hold admin — `zhucun create-user --role admin` is refused, and a production start with such an
account is refused in one line — and `zhucun policy check` lists the level-3 items."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from app.auth.level3 import check_separation, report
from app.auth.models import User
from app.core.policy import Policy
from tests.core.test_misconfiguration import STRONG, _free_port, one_line, run

DENGBAO3 = '[security]\nprofile = "dengbao3"\n'


def _policy_file(tmp_path: Path) -> str:
    path = tmp_path / "policy.toml"
    path.write_text(DENGBAO3)
    return str(path)


def test_a_production_start_refuses_an_admin_account_under_separation_of_duties(
    db_url, tmp_path, db
):
    base = {"DATABASE_URL": db_url}
    made = run(
        tmp_path,
        base,
        "create-user",
        "--username",
        "root1",
        "--password-stdin",
        "--role",
        "admin",
        input=STRONG + "\n",
    )
    assert made.returncode == 0, made.stderr
    key = tmp_path / "key.pem"
    assert run(tmp_path, base, "audit", "keygen", str(key)).returncode == 0
    env = {
        **base,
        "ZHUCUN_ENV": "production",
        "ZHUCUN_SECRET_KEY": STRONG,
        "ZHUCUN_SIGNING_KEY_FILE": str(key),
        "ZHUCUN_POLICY": _policy_file(tmp_path),
    }
    refused = run(tmp_path, env, "serve", "--port", str(_free_port()))
    assert refused.returncode == 2
    assert one_line(refused) == (
        "zhucun: separation of duties is on (policy.security) but these accounts hold admin: "
        "root1; give each sysadmin, security_admin or audit_admin, or deactivate it"
    )
    # Once the account holds a separated role, nothing stands in the way.
    db.execute(update(User).where(User.username == "root1").values(role="sysadmin"))
    db.commit()
    check_separation(db, Policy.model_validate({"security": {"profile": "dengbao3"}}))
    assert db.scalar(select(User.role).where(User.username == "root1")) == "sysadmin"
    db.commit()


def test_create_user_refuses_admin_and_weak_passwords_under_dengbao3(db_url, tmp_path):
    env = {"DATABASE_URL": db_url, "ZHUCUN_POLICY": _policy_file(tmp_path)}
    admin = run(
        tmp_path,
        env,
        *("create-user", "--username", "root2", "--password-stdin"),
        *("--role", "admin"),
        input="Strong-Pass-2026\n",
    )
    assert admin.returncode == 2
    assert "separation of duties is on" in one_line(admin)
    weak = run(
        tmp_path,
        env,
        *("create-user", "--username", "sec1", "--password-stdin"),
        *("--role", "security_admin"),
        input="lowercaseonly\n",
    )
    assert weak.returncode == 2
    assert "3 of" in one_line(weak)
    for role in ("sysadmin", "security_admin", "audit_admin"):  # no --scope needed
        made = run(
            tmp_path,
            env,
            *("create-user", "--username", f"{role}-1", "--password-stdin"),
            *("--role", role),
            input="Strong-Pass-2026\n",
        )
        assert made.returncode == 0, made.stderr


def test_policy_check_prints_the_level3_items_and_which_are_on(tmp_path):
    basic = run(tmp_path, {}, "policy", "check")
    assert basic.returncode == 0, basic.stderr
    lines = basic.stdout.splitlines()
    assert lines[0].startswith("等保 2.0 level 3 (GB/T 22239-2019")
    assert 'profile = "basic"' in lines[0]
    assert any(line.startswith("[off] 8.1.4.1 d)") for line in lines)  # no second factor
    strict = run(tmp_path, {"ZHUCUN_POLICY": _policy_file(tmp_path)}, "policy", "check")
    text = strict.stdout
    for clause in ("8.1.4.1 a)", "8.1.4.1 b)", "8.1.4.1 d)", "8.1.4.2 d)"):
        assert f"[on ] {clause}" in text, clause
    assert "[off] 8.1.4.8/9" in text  # Ed25519 (no SM2 key file)
    assert "[dep] 8.1.4.1 c)" in text  # TLS is the deployment's
    key = tmp_path / "sm2.pem"
    assert run(tmp_path, {}, "audit", "keygen", "--algorithm", "sm2", str(key)).returncode == 0
    sm2 = run(
        tmp_path,
        {"ZHUCUN_POLICY": _policy_file(tmp_path), "ZHUCUN_SIGNING_KEY_FILE": str(key)},
        "policy",
        "check",
    )
    assert "[on ] 8.1.4.8/9" in sm2.stdout
    assert sm2.stdout.splitlines()[-1] == "13 of 13 items the service covers are on"


def test_the_report_counts_only_the_service_s_own_items():
    lines = report(Policy(), None)
    assert lines[-1] == "5 of 13 items the service covers are on"
