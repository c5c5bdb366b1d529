"""`zhucun import-roster` with files in the wrong encoding, and text no column can hold.

Each file is written here from Python's codecs, as the Excel of a Taiwanese, Japanese or
mainland office would save it. Before these checks, Big5 and Shift-JIS files imported as
mojibake units (`眎,材癘`), and a NUL or 100,000-character name was stored on SQLite and a
traceback on PostGIS.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.org.models import Member, Unit
from tests.org.helpers import zhucun
from tests.org.test_roster_import import GOOD, HEADER, roster_counts, write_csv

# The same two members as a Taiwanese office writes them (traditional characters).
TRADITIONAL = [
    "zhangsan,張三,第一書記,市農業農村局,430121001001,2025-01-01,,zhangsan-pass",
    "lisi,李四,隊員,縣民政局,430121002001,2025/3/1,2030-12-31,",
]
JAPANESE = "tanaka,田中太郎,第一書記,市農業農村局,430121001001,2025-01-01,,tanaka-pass"
JAPANESE_KANA = "tanaka,ﾀﾅｶ,第一書記,市農業農村局,430121001001,2025-01-01,,tanaka-pass"


def refused(db, before, result):
    assert result.exit_code == 1, result.output
    assert "nothing was imported" in result.stderr
    assert roster_counts(db) == before
    return result.stderr


def lines_named(stderr):
    match = re.search(r"lines? ([\d, ]+)", stderr)
    assert match, stderr
    return [int(n) for n in match[1].split(",")]


def test_big5_roster_is_refused_naming_its_lines(world, db_url, db, tmp_path):
    before = roster_counts(db)
    path = write_csv(tmp_path, [HEADER, *TRADITIONAL], "big5")
    stderr = refused(db, before, zhucun(db_url, "import-roster", str(path)))
    assert "Big5" in stderr
    assert lines_named(stderr) == [2, 3]
    # The mojibake unit names of the outside probe never reach the database.
    assert db.scalar(select(Unit).where(Unit.name.like("%笰%"))) is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [(JAPANESE, "Shift-JIS"), (JAPANESE_KANA, "neither UTF-8 nor GB18030")],
    ids=["kanji", "half-width-kana"],
)
def test_shift_jis_roster_is_refused(world, db_url, db, tmp_path, row, expected):
    before = roster_counts(db)
    path = write_csv(tmp_path, [HEADER, GOOD[1].replace("县民政局", "市役所"), row], "shift_jis")
    stderr = refused(db, before, zhucun(db_url, "import-roster", str(path)))
    assert expected in stderr
    assert 3 in lines_named(stderr)


def test_utf8_roster_with_one_gbk_row_names_that_row(world, db_url, db, tmp_path):
    before = roster_counts(db)
    path = tmp_path / "roster.csv"
    utf8 = (HEADER + "\r\n" + GOOD[0] + "\r\n").encode("utf-8")
    gbk_row = (GOOD[1] + "\r\n").encode("gbk")
    third = "wangwu,王五,队员,市农业农村局,430121001002,2025-01-01,,wangwu-pass\r\n"
    path.write_bytes(utf8 + gbk_row + third.encode("utf-8"))
    stderr = refused(db, before, zhucun(db_url, "import-roster", str(path)))
    assert "mixes encodings" in stderr
    assert lines_named(stderr) == [3]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_chinese_rosters_import_with_their_names_intact(world, db_url, db, tmp_path, encoding):
    # 𠮷 is outside GBK: GB18030 writes it in four bytes.
    rows = [HEADER, GOOD[0].replace("张三", "张𠮷"), GOOD[1]]
    result = zhucun(db_url, "import-roster", str(write_csv(tmp_path, rows, encoding)))
    assert result.exit_code == 0, result.output
    names = set(db.scalars(select(Member.full_name)))
    assert {"张𠮷", "李四"} <= names
    assert db.scalar(select(Unit).where(Unit.name == "县民政局")) is not None


def test_encoding_option_takes_a_file_detection_refuses(world, db_url, db, tmp_path):
    # A roster in traditional characters saved as GBK: valid, but it does not read as the
    # common simplified characters, so detection refuses it; the operator says what it is.
    rows = [
        r.replace("第一書記", "first_secretary").replace("隊員", "team_member") for r in TRADITIONAL
    ]
    path = write_csv(tmp_path, [HEADER, *rows], "gbk")
    before = roster_counts(db)
    refused(db, before, zhucun(db_url, "import-roster", str(path)))
    result = zhucun(db_url, "import-roster", str(path), "--encoding", "gbk")
    assert result.exit_code == 0, result.output
    assert db.scalar(select(Unit).where(Unit.name == "縣民政局")) is not None


@pytest.mark.parametrize(
    ("encoding", "message"),
    [("utf-8", "not UTF-8 text as --encoding says: lines 2, 3"), ("big5", "not accepted")],
)
def test_encoding_option_is_strict(world, db_url, db, tmp_path, encoding, message):
    before = roster_counts(db)
    path = write_csv(tmp_path, [HEADER, *GOOD], "gb18030")
    result = zhucun(db_url, "import-roster", str(path), "--encoding", encoding)
    assert message in refused(db, before, result)


BAD_TEXT = [
    ("nul in a name", "full_name", "张\x00三", "full_name contains a NUL character"),
    ("long name", "full_name", "张" * 100_000, "full_name is 100,000 characters long, at most 100"),
    ("bell in a unit", "unit", "市农业\x07农村局", "unit contains a control character (U+0007)"),
    ("long unit", "unit", "局" * 201, "unit is 201 characters long, at most 200"),
    ("bidi override", "full_name", "张\u202e三", "full_name contains a text-direction control"),
    ("long password", "password", "p" * 201, "password is 201 characters long, at most 200"),
    ("nul in a password", "password", "pass\x00word", "password contains a NUL"),
]


@pytest.mark.parametrize(
    ("column", "value", "reason"), [b[1:] for b in BAD_TEXT], ids=[b[0] for b in BAD_TEXT]
)
def test_text_no_column_can_hold_is_refused_on_its_line(
    world, db_url, db, tmp_path, column, value, reason
):
    before = roster_counts(db)
    fields = dict(zip(HEADER.split(","), GOOD[1].split(","), strict=True))
    fields[column] = value
    path = write_csv(tmp_path, [HEADER, GOOD[0], ",".join(fields.values())])
    stderr = refused(db, before, zhucun(db_url, "import-roster", str(path)))
    assert f"line 3: {reason}" in stderr
    assert len(stderr) < 500  # the value is never echoed back


def test_the_longest_names_the_columns_hold_are_stored(world, db_url, db, tmp_path):
    row = GOOD[1].replace("李四", "李" * 100).replace("县民政局", "局" * 200)
    result = zhucun(db_url, "import-roster", str(write_csv(tmp_path, [HEADER, row])))
    assert result.exit_code == 0, result.output
    assert db.scalar(select(Unit).where(Unit.name == "局" * 200)) is not None


@pytest.mark.parametrize(
    ("full_name", "reason"),
    [("张\x00三", "NUL"), ("张" * 101, "101 characters long")],
)
def test_create_user_refuses_a_name_no_column_can_hold(db_url, db, full_name, reason):
    result = zhucun(
        db_url,
        "create-user",
        "--username=county1",
        "--password-stdin",
        "--role=county",
        "--scope=430121",
        f"--full-name={full_name}",
        input="county-pass-1\n",
    )
    assert result.exit_code == 2, result.output
    assert reason in result.stderr
