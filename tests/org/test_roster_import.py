"""`zhucun import-roster`: encodings, all-or-nothing refusals with line numbers, and logins."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.org.models import Assignment, Member, Unit
from tests.org.helpers import zhucun

HEADER = "username,full_name,position,unit,village_code,start_date,end_date,password"
# Two good rows: a given password, and none (one is generated). 市农业农村局 exists in the
# world; 县民政局 is new.
GOOD = [
    "zhangsan,张三,第一书记,市农业农村局,430121001001,2025-01-01,,zhangsan-pass",
    "lisi,李四,team_member,县民政局,430121002001,2025/3/1,2030-12-31,",
]


def write_csv(tmp_path, lines, encoding="utf-8", name="roster.csv"):
    path = tmp_path / name
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def login(client, username, password):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def roster_counts(db):
    counts = tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Member, User, Assignment, Unit)
    )
    db.commit()
    return counts


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_roster_imports_members_accounts_and_assignments(world, db_url, db, tmp_path, encoding):
    before = roster_counts(db)
    # Excel leaves a row of empty cells at the end; it is not a member.
    path = write_csv(tmp_path, [HEADER, *GOOD, ",,,,,,,"], encoding)
    result = zhucun(db_url, "import-roster", str(path))
    assert result.exit_code == 0, result.output
    assert "imported 2 members, 2 assignments, new units: 县民政局" in result.stdout
    assert roster_counts(db) == (before[0] + 2, before[1] + 2, before[2] + 2, before[3] + 1)

    zhang = db.scalar(select(User).where(User.username == "zhangsan"))
    member = db.get(Member, zhang.member_id)
    assert (zhang.role, zhang.scope, zhang.full_name) == ("member", "430121001001", "张三")
    assert (member.full_name, member.position) == ("张三", "first_secretary")
    lisi = db.scalar(select(User).where(User.username == "lisi"))
    assignment = db.scalar(select(Assignment).where(Assignment.member_id == lisi.member_id))
    assert (str(assignment.start_date), str(assignment.end_date)) == ("2025-03-01", "2030-12-31")
    db.commit()

    # The given password works; the generated one is printed once, in a table, and works.
    assert login(world.client, "zhangsan", "zhangsan-pass").status_code == 200
    assert "do not keep this output" in result.stderr
    match = re.search(r"^lisi\s+(\S+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    assert "zhangsan-pass" not in result.stdout
    token = login(world.client, "lisi", match[1])
    assert token.status_code == 200, token.text
    mine = world.client.get(
        "/api/v1/me/assignment",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert mine.json()["village_code"] == "430121002001"


def test_a_member_may_have_successive_assignments(world, db_url, db, tmp_path):
    rows = [
        HEADER,
        "wangwu,王五,队长,市农业农村局,430121001001,2024-01-01,2024-12-31,wangwu-pass",
        "wangwu,王五,队长,市农业农村局,430121001002,2025-01-01,,",
    ]
    result = zhucun(db_url, "import-roster", str(write_csv(tmp_path, rows)))
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "wangwu"))
    assert user.scope == "430121001002"  # the latest posting
    assignments = db.scalars(select(Assignment).where(Assignment.member_id == user.member_id))
    assert sorted(a.village_code for a in assignments) == ["430121001001", "430121001002"]
    assert "generated password" not in result.stderr
    db.commit()


BAD_ROWS = [
    (
        "unknown village",
        "wangwu,王五,队员,市农业农村局,430121009009,2025-01-01,,",
        "unknown village 430121009009",
    ),
    (
        "village code",
        "wangwu,王五,队员,市农业农村局,4301210010,2025-01-01,,",
        "is not 12 digits",
    ),
    ("bad date", "wangwu,王五,队员,市农业农村局,430121001001,2025-13-01,,", "start_date"),
    ("not a date", "wangwu,王五,队员,市农业农村局,430121001001,2025-01-01,soon,", "end_date"),
    (
        "end before start",
        "wangwu,王五,队员,市农业农村局,430121001001,2025-06-01,2025-05-31,",
        "before start_date",
    ),
    (
        "duplicate username in file",
        "zhangsan,张山,队员,市农业农村局,430121001002,2025-01-01,,",
        "duplicate username 'zhangsan' (line 2)",
    ),
    (
        "username in database",
        "alice,爱丽丝,队员,市农业农村局,430121001001,2025-01-01,,",
        "username 'alice' already exists",
    ),
    (
        "unknown position",
        "wangwu,王五,秘书,市农业农村局,430121001001,2025-01-01,,",
        "unknown position '秘书'",
    ),
    (
        "missing column",
        "wangwu,王五,队员,市农业农村局",
        "missing column(s): village_code, start_date",
    ),
    ("empty field", "wangwu,,队员,市农业农村局,430121001001,2025-01-01,,", "empty full_name"),
    (
        "overlapping assignment",
        "zhangsan,张三,第一书记,市农业农村局,430121001002,2025-06-01,,",
        "overlaps the one on line 2",
    ),
    (
        "short password",
        "wangwu,王五,队员,市农业农村局,430121001001,2025-01-01,,short",
        "password shorter",
    ),
    (
        "bad username",
        "wang wu,王五,队员,市农业农村局,430121001001,2025-01-01,,",
        "username 'wang wu'",
    ),
]


@pytest.mark.parametrize(("row", "reason"), [b[1:] for b in BAD_ROWS], ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_fails_the_whole_file(world, db_url, db, tmp_path, row, reason):
    before = roster_counts(db)
    path = write_csv(tmp_path, [HEADER, GOOD[0], row])
    result = zhucun(db_url, "import-roster", str(path))
    assert result.exit_code == 1
    assert "nothing was imported" in result.stderr
    assert re.findall(r"line (\d+): ", result.stderr) == ["3"]
    assert reason in result.stderr
    assert roster_counts(db) == before


def test_every_bad_row_is_listed(world, db_url, db, tmp_path):
    before = roster_counts(db)
    rows = [
        HEADER,
        "a1,甲,队员,市农业农村局,430121009009,2025-01-01,,",
        *GOOD,
        "a2,乙,组长,市农业农村局,430121001001,2025-01-01,,",
        "a3,丙,队员,市农业农村局,430121001001,2025-02-30,,",
    ]
    result = zhucun(db_url, "import-roster", str(write_csv(tmp_path, rows)))
    assert result.exit_code == 1
    for line in (2, 5, 6):
        assert f"line {line}: " in result.stderr
    assert "line 3:" not in result.stderr
    assert roster_counts(db) == before


def test_a_missing_header_column_is_refused(world, db_url, db, tmp_path):
    header = HEADER.replace(",password", "")
    result = zhucun(db_url, "import-roster", str(write_csv(tmp_path, [header, GOOD[0][:-14]])))
    assert result.exit_code == 1
    assert "line 1: missing column(s): password" in result.stderr


def test_a_file_in_no_known_encoding_is_refused(db_url, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(HEADER.encode() + b"\r\n\xff\xfe\xff\xfe\x81\x30\r\n")
    result = zhucun(db_url, "import-roster", str(path))
    assert result.exit_code == 1
    assert "neither UTF-8 nor GB18030" in result.stderr
