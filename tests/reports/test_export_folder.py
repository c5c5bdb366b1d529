"""Exports are written in a folder of the service's own, and what a killed process left there
is removed when the service starts, without touching a live sibling worker's export.

Before, exports went to the system's /tmp (`zhucun-export-*`), where a process killed
mid-export (kill -9, out of memory) left member names for good.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.core.scratch import ScratchFolder, ScratchFolderError
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]
# A worker that starts writing an export and is then killed, or lives on.
WORKER = """
import sys, time
from pathlib import Path
from app.core.scratch import ScratchFolder
path = ScratchFolder(Path(sys.argv[1])).new_file(".csv")
path.write_text("姓名,单位\\n张三,市农业农村局\\n", encoding="utf-8")
print(path, flush=True)
time.sleep(120)
"""


def start_worker(folder: Path) -> tuple[subprocess.Popen[str], Path]:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    return worker, Path(worker.stdout.readline().strip())


def stop(worker: subprocess.Popen[str]) -> None:
    worker.kill()
    worker.wait(timeout=30)


def test_a_killed_workers_export_is_removed_and_a_live_ones_kept(tmp_path):
    folder = tmp_path / "exports"
    killed, left_behind = start_worker(folder)
    alive, in_flight = start_worker(folder)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert left_behind.exists()
        assert stat.S_IMODE(left_behind.stat().st_mode) == 0o600

        removed = ScratchFolder(folder).prepare()
        assert removed == [left_behind.parent]
        assert not left_behind.exists()
        assert not left_behind.parent.exists()
        assert in_flight.read_text(encoding="utf-8").startswith("姓名")
    finally:
        stop(alive)
    assert ScratchFolder(folder).prepare() == [in_flight.parent]
    assert list(folder.iterdir()) == []


def test_the_app_removes_dead_exports_at_start_up(settings, policy, tmp_path):
    folder = tmp_path / "exports"
    killed, left_behind = start_worker(folder)
    stop(killed)
    app = create_app(settings.model_copy(update={"export_dir": folder}), policy)
    assert left_behind.exists()
    with TestClient(app):
        assert not left_behind.exists()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_export_is_written_in_the_folder_and_gone_once_sent(world, app):
    folder: ScratchFolder = app.state.exports
    written: list[Path] = []
    new_file = folder.new_file

    def observed(suffix: str) -> Path:
        written.append(new_file(suffix))
        return written[-1]

    folder.new_file = observed  # type: ignore[method-assign]
    try:
        r = world.get(
            "county", "/reports/presence", params={"from": "2026-01-01", "to": "2026-01-02"}
        )
    finally:
        del folder.new_file
    assert r.status_code == 200, r.text
    assert len(written) == 1
    assert written[0].parent.parent == folder.root
    assert not written[0].exists()


def test_a_group_or_world_readable_folder_is_made_private(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    ScratchFolder(folder).prepare()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_symlinked_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "exports").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ScratchFolderError, match="is not a folder"):
        ScratchFolder(tmp_path / "exports").prepare()


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give a folder to another user")
def test_another_users_folder_is_refused(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(ScratchFolderError, match="belongs to another user"):
        ScratchFolder(folder).prepare()
