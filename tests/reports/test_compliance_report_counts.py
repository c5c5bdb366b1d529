"""The compliance export counts violations in entries (次) beside the days absent
(`absent_workdays`), as API.md "Absences, settled" says, in CSV, XLSX and JSON alike: a member
absent in two runs, one long, is 2 absent_without_leave and 1 absent_run over 7 working days."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.core.policy import Policy
from tests.compliance.support import STORY_POLICY, add_member, days, live_in, workdays

EAST = "430121001001"
PERIOD = "2025Q4"
ABSENT = days(date(2025, 11, 3), date(2025, 11, 7)) + days(date(2025, 12, 1), date(2025, 12, 2))
COUNTED = {  # header → zhao's cell
    "无假缺勤（工作日）": 7,
    "无假缺勤（次）": 2,
    "连续缺勤（次）": 1,
    "超假（次）": 0,
    "其他违规（次）": 0,
}


@pytest.fixture
def policy() -> Policy:
    return STORY_POLICY


@pytest.fixture
def zhao(world) -> int:
    member = add_member(world, "zhao", EAST, date(2025, 1, 1))
    there = [d for d in workdays(date(2025, 10, 1), date(2025, 12, 31)) if d not in ABSENT]
    live_in(world, "zhao", EAST, there)
    return member


def export(world, fmt: str):
    r = world.get("county", "/reports/compliance", params={"period": PERIOD, "format": fmt})
    assert r.status_code == 200, r.text
    return r


def test_json_rows_carry_absent_workdays_beside_counts_of_entries(world, zhao):
    (row,) = [r for r in export(world, "json").json()["items"] if r["member_id"] == zhao]
    assert row["absent_workdays"] == 7
    assert (row["absent_without_leave"], row["absent_run"]) == (2, 1)
    # the same as the compliance list and the member's own answer
    listed = world.get("county", "/compliance", params={"period": PERIOD}).json()["items"]
    (item,) = [i for i in listed if i["member_id"] == zhao]
    assert item["absent_workdays"] == 7
    assert item["violations"] == {"absent_without_leave": 2, "absent_run": 1}
    one = world.get("county", f"/compliance/members/{zhao}", params={"period": PERIOD}).json()
    assert one["absent_workdays"] == 7
    runs = [(v["from"], v["to"]) for v in one["violations"] if v["code"] == "absent_without_leave"]
    assert runs == [("2025-11-03", "2025-11-07"), ("2025-12-01", "2025-12-02")]


def _check_table(header: list[str], row: list[object]) -> None:
    cells = dict(zip(header, row, strict=True))
    assert {h: int(str(cells[h])) for h in COUNTED} == COUNTED
    # every violation column says it counts entries; the days column stands beside them
    at = header.index("无假缺勤（工作日）")
    assert header[at - 1] == "尚需天数"
    rates = header.index("住村率")  # the annual evaluation's four rates close the row
    assert all(h.endswith("（次）") for h in header[at + 1 : rates])
    assert header[rates:] == ["住村率", "入户率", "满意度", "认识度"]


def test_csv_headers_say_entries_beside_the_days_absent(world, zhao):
    body = export(world, "csv").content[3:].decode()  # after the BOM
    table = list(csv.reader(io.StringIO(body, newline="")))
    (row,) = [r for r in table[1:] if r[0] == str(zhao)]
    _check_table(table[0], row)


def test_xlsx_headers_say_entries_beside_the_days_absent(world, zhao, tmp_path):
    path = tmp_path / "compliance.xlsx"
    path.write_bytes(export(world, "xlsx").content)
    sheet = load_workbook(path, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    (row,) = [r for r in rows[1:] if r[0] == zhao]
    _check_table([str(h) for h in rows[0]], row)
