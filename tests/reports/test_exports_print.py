"""Exports that print and read (issue 23 item 5): every XLSX sheet prints landscape on A4,
one page wide, its header row repeated; rates are percentages; the time it was made is local;
villages, townships and counties are named beside their codes."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.core.policy import DivisionPolicy, Policy
from tests.reports.support import seed_story

NAMES = {"430121": "长沙县", "430121001": "星沙街道", "430121002": "泉塘街道"}


@pytest.fixture
def policy():
    return Policy(divisions=DivisionPolicy(names=NAMES))


@pytest.fixture
def story(world, policy):
    return world, seed_story(world, policy)


def _quarter(day):
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def _workbook(world, tmp_path, path, params):
    answer = world.get("county", path, params={**params, "format": "xlsx"})
    assert answer.status_code == 200, answer.text
    file = tmp_path / "export.xlsx"
    file.write_bytes(answer.content)
    return load_workbook(file)


def _prints_one_page_wide(ws, repeat_header=True):
    setup = ws.page_setup
    assert setup.orientation == "landscape"
    assert int(setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    # fitToWidth is left out when 1, its default in the file format
    assert (int(setup.fitToWidth or 1), int(setup.fitToHeight)) == (1, 0)
    if repeat_header:
        assert ws.print_title_rows == "$1:$1"
    assert "&P" in ws.oddFooter.center.text


def test_the_compliance_export_prints_and_names_places(story, tmp_path):
    world, today = story
    book = _workbook(world, tmp_path, "/reports/compliance", {"period": _quarter(today)})
    ws = book["驻村考核"]
    _prints_one_page_wide(ws)
    header = [c.value for c in ws[1]]
    assert header[3:7] == ["村编码", "村名", "乡镇", "县区"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["Alice"][3:7] == ("430121001001", "东山村", "星沙街道", "长沙县")
    assert rows["Carol"][3:7] == ("430121002001", "南湖村", "泉塘街道", "长沙县")
    _prints_one_page_wide(book["导出说明"], repeat_header=False)


def test_the_monthly_bulletin_prints_rates_as_percent(story, tmp_path):
    world, today = story
    month = f"{today - timedelta(days=1):%Y-%m}"
    book = _workbook(world, tmp_path, "/reports/monthly", {"month": month})
    for name in ("县乡汇总", "进度落后名单"):
        _prints_one_page_wide(book[name])
    ws = book["县乡汇总"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["层级", "区划代码", "名称"]
    rate_at = header.index("在岗率")
    county = next(r for r in ws.iter_rows(min_row=2) if r[1].value == "430121")
    assert county[2].value == "长沙县"
    assert isinstance(county[rate_at].value, float)
    assert ws.column_dimensions[chr(ord("A") + rate_at)] is not None
    # The percent format is the column's: the cell's own style or its column's.
    styled = county[rate_at].number_format
    column_style = ws.column_dimensions[chr(ord("A") + rate_at)].number_format
    assert "0.0%" in (styled, column_style)
    below = book["进度落后名单"]
    assert [c.value for c in below[1]][3:7] == ["村编码", "村名", "乡镇", "县区"]


def test_the_monthly_csv_shows_percentages(story):
    world, today = story
    month = f"{today - timedelta(days=1):%Y-%m}"
    text = world.get("county", "/reports/monthly", params={"month": month}).content.decode(
        "utf-8-sig"
    )
    table = list(csv.reader(io.StringIO(text.split("\r\n\r\n")[0], newline="")))
    header, county = table[1], next(r for r in table if len(r) > 1 and r[1] == "430121")
    rate = county[header.index("在岗率")]
    assert re.fullmatch(r"\d{1,3}\.\d%", rate), rate
    assert county[header.index("名称")] == "长沙县"


def test_the_json_export_keeps_fractions_and_adds_names(story):
    world, today = story
    month = f"{today - timedelta(days=1):%Y-%m}"
    data = world.get("county", "/reports/monthly", params={"month": month, "format": "json"}).json()
    county = next(d for d in data["divisions"] if d["code"] == "430121")
    assert 0 <= county["on_post_rate"] <= 1
    assert county["name"] == "长沙县"


def test_the_time_made_is_local(story, tmp_path):
    world, today = story
    book = _workbook(world, tmp_path, "/reports/compliance", {"period": _quarter(today)})
    about = dict(book["导出说明"].iter_rows(values_only=True))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d（Asia/Shanghai）", about["生成时间"])
    assert about["生成时间（UTC）"].endswith("Z")


def test_unknown_division_names_are_empty_not_wrong(world, db):
    from app.org.division_names import DivisionNames

    names = DivisionNames(Policy())
    assert names.township("430121001001") is None
    assert names.county("430199001001") == "示范县"  # the demo county is known
    assert DivisionNames(Policy(divisions=DivisionPolicy(names=NAMES))).county("430121001001") == (
        "长沙县"
    )


@pytest.mark.parametrize("bad", [{"43012": "x"}, {"430121001001": "村"}, {"430121": " "}])
def test_the_policy_refuses_bad_division_names(bad):
    with pytest.raises(ValueError, match=r"code|name"):
        DivisionPolicy(names=bad)
