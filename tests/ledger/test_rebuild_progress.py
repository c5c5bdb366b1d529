"""`zhucun ledger rebuild` shows progress: the rebuild reports members done after each chunk
(the command draws a bar from it on a terminal)."""

from __future__ import annotations

from app.core.policy import Policy
from app.ledger import service


def test_progress_is_reported_after_each_chunk(world, db, monkeypatch):
    monkeypatch.setattr(service, "REBUILD_CHUNK", 3)
    seen: list[tuple[int, int]] = []
    service.rebuild(db, Policy(), progress=lambda done, total: seen.append((done, total)))
    db.commit()
    assert seen == [(0, 4), (3, 4), (4, 4)]


def test_the_command_ends_with_its_summary(world, db_url):
    from tests.org.helpers import zhucun

    db_url_result = zhucun(db_url, "ledger", "rebuild")
    assert db_url_result.exit_code == 0, db_url_result.output
    assert db_url_result.stdout.startswith("rebuilt ")
    assert "of 4 member(s)" in db_url_result.stdout
