"""GET /reports/presence in CSV, XLSX and JSON pages: rows as the ledger derives them, the
scope rules, formula neutralising, and signed receipts that `zhucun audit verify-export`
checks offline (a one-cell tamper fails it)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from app.audit import rules
from app.audit.keys import verify_signature
from app.cli import cli
from app.core.config import get_settings
from tests.reports.support import seed_story

HYPERLINK = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def story(world):
    alice = world.members["alice"]
    alice.full_name = HYPERLINK
    world.db.commit()
    return world, seed_story(world)


def _get(world, who, **params):
    return world.get(who, "/reports/presence", params=params)


def _period(today, back=3):
    return {
        "from": (today - timedelta(days=back)).isoformat(),
        "to": (today - timedelta(days=1)).isoformat(),
    }


def _csv_rows(body: bytes):
    assert body.startswith(b"\xef\xbb\xbf")
    text = body[3:].decode("utf-8")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_rows_statuses_digest_and_receipt(story):
    world, today = story
    answer = _get(world, "county", format="csv", **_period(today))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith("attachment; filename=")
    assert "filename*=UTF-8''%E9%A9%BB" in answer.headers["content-disposition"]
    digest = base64.b64encode(hashlib.sha256(answer.content).digest()).decode()
    assert answer.headers["content-digest"] == f"sha-256=:{digest}:"
    table = _csv_rows(answer.content)
    assert table[0][:3] == ["队员编号", "姓名", "职务"]
    body = table[1:]
    # alice, bob, carol (county 430121) × 3 days; dave's county is not in scope.
    assert len(body) == 9
    by_name = {}
    for row in body:
        by_name.setdefault(row[1], []).append(row[10])
    assert by_name["'" + HYPERLINK] == ["在岗"] * 3  # neutralised: arrives as text
    assert by_name["Bob"] == ["请假"] * 3
    assert by_name["Carol"] == ["缺勤"] * 3
    receipt = world.get("auditor", f"/reports/receipts/{answer.headers['zhucun-receipt']}")
    assert receipt.status_code == 200
    doc = receipt.json()
    assert doc["content_digest"] == answer.headers["content-digest"]
    assert doc["query"]["scope"] == "430121"
    assert doc["query"]["requested_by"] == "county"
    keys = {
        k["key_id"]: k["public_key"]
        for k in world.get("county", "/audit/public-keys").json()["items"]
    }
    public = base64.b64decode(keys[doc["key_id"]])
    assert verify_signature(
        public, rules.signed_payload(doc, rules.RECEIPT_SIGNED), doc["signature"]
    )


def test_verify_export_passes_the_file_and_names_a_one_cell_tamper(
    story, tmp_path, db_url, monkeypatch
):
    world, today = story
    answer = _get(world, "auditor", format="csv", **_period(today))
    exported = tmp_path / "presence.csv"
    exported.write_bytes(answer.content)
    receipt = tmp_path / "receipt.json"
    receipt.write_text(
        world.get("auditor", f"/reports/receipts/{answer.headers['zhucun-receipt']}").text
    )
    key = world.get("auditor", "/audit/public-keys").json()["items"][-1]["public_key"]
    runner = CliRunner()

    ok = runner.invoke(
        cli, ["audit", "verify-export", str(exported), str(receipt), "--public-key", key]
    )
    assert ok.exit_code == 0, ok.output

    tampered = tmp_path / "tampered.csv"
    tampered.write_bytes(answer.content.replace("缺勤".encode(), "在岗".encode(), 1))
    bad = runner.invoke(
        cli, ["audit", "verify-export", str(tampered), str(receipt), "--public-key", key]
    )
    assert bad.exit_code == 1
    assert "content digest" in bad.output + bad.stderr

    forged = json.loads(receipt.read_text())
    forged["query"]["scope"] = "4301"
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged))
    bad = runner.invoke(
        cli, ["audit", "verify-export", str(exported), str(forged_file), "--public-key", key]
    )
    assert bad.exit_code == 1
    assert "signature" in bad.output + bad.stderr

    # Without --public-key: the keys the deployment lists.
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        listed = runner.invoke(cli, ["audit", "verify-export", str(exported), str(receipt)])
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0, listed.output


def test_xlsx_has_chinese_headers_dates_frozen_row_and_an_about_sheet(story, tmp_path):
    world, today = story
    answer = _get(world, "city", format="xlsx", **_period(today))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].endswith(".xlsx")
    path = tmp_path / "p.xlsx"
    path.write_bytes(answer.content)
    book = load_workbook(path)
    data, about = book.worksheets
    assert data.freeze_panes == "A2"
    header = [c.value for c in data[1]]
    assert header[:2] == ["队员编号", "姓名"]
    rows = list(data.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 12  # 4 members of city 4301 × 3 days
    assert {type(r[8]).__name__ for r in rows} == {"datetime"}  # dates as dates
    names = {r[1] for r in rows}
    assert HYPERLINK in names  # a string cell, not a formula
    assert data.column_dimensions["D"].width > 20
    facts = {r[0]: r[1] for r in about.iter_rows(values_only=True)}
    assert facts["回执编号"] == answer.headers["zhucun-receipt"]
    assert '"scope": "4301"' in facts["查询"]


def test_long_xlsx_continues_on_further_sheets(tmp_path):
    from app.reports import export, presence

    render = export.Render(presence.COLUMNS, "xlsx")
    rows = [
        render.part(
            0,
            (
                i,
                "名",
                "team_member",
                "单位",
                "430121001001",
                "村",
                "430121001",
                "430121",
                None,
                True,
                "present",
                2,
                None,
            ),
        )
        for i in range(7)
    ]
    path = tmp_path / "long.xlsx"
    assert (
        export.write_xlsx(path, presence.COLUMNS, rows, [("a", "b")], title="T", sheet_rows=3) == 7
    )
    book = load_workbook(path)
    assert [ws.title for ws in book.worksheets] == [
        "T",
        "T（续1）",
        "T（续2）",
        "T（续3）",
        "导出说明",
    ]
    assert [ws.max_row for ws in book.worksheets[:4]] == [3, 3, 3, 2]


def test_json_pages_cover_every_row_once(story):
    world, today = story
    period = _period(today, back=5)
    pages, cursor, seen = 0, None, []
    while True:
        params = {"format": "json", "limit": 4, **period}
        if cursor:
            params["cursor"] = cursor
        answer = _get(world, "county", **params)
        assert answer.status_code == 200, answer.text
        assert answer.headers["zhucun-receipt"]
        page = answer.json()
        seen += [(r["member_id"], r["date"]) for r in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 15 == len(set(seen))
    assert seen == sorted(seen)
    assert pages == 4
    assert page["items"][-1]["status"] in {"present", "leave", "absent"}


def test_unit_users_see_their_own_unit_only(story):
    world, today = story
    answer = _get(world, "unit", format="json", **_period(today))
    assert answer.status_code == 200
    members = {r["member_id"] for r in answer.json()["items"]}
    assert members == {world.members["alice"].id, world.members["bob"].id}
    other = _get(world, "unit", scope="市交通运输局", **_period(today))
    assert (other.status_code, other.json()["code"]) == (404, "scope_not_found")


@pytest.mark.parametrize(
    ("who", "params", "status", "code"),
    [
        ("county", {"from": "2025-01-01", "to": "2026-03-01"}, 422, "invalid_range"),
        ("county", {"format": "pdf"}, 422, "validation_error"),
        ("county", {"from": "+1", "to": "+3"}, 422, "period_in_future"),
        ("county", {"scope": "430122"}, 404, "scope_not_found"),
        ("county", {"scope": "43"}, 404, "scope_not_found"),
        ("township1", {"scope": "430121002"}, 404, "scope_not_found"),
        ("county", {"scope": "abc"}, 404, "scope_not_found"),
        ("alice", {}, 403, "role_required"),
        ("county", {"format": "json", "cursor": "W1siYSJdXQ"}, 422, "invalid_cursor"),
    ],
)
def test_bad_input(world, who, params, status, code):
    from tests.ledger.support import today

    now = today()
    query = {"from": (now - timedelta(days=2)).isoformat(), "to": now.isoformat()}
    for end in ("from", "to"):
        if params.get(end, "").startswith("+"):
            params = {**params, end: (now + timedelta(days=int(params[end]))).isoformat()}
    answer = _get(world, who, **{**query, **params})
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


def test_unknown_receipt_is_404(world):
    answer = world.get("auditor", "/reports/receipts/00000000-0000-0000-0000-000000000000")
    assert (answer.status_code, answer.json()["code"]) == (404, "receipt_not_found")
