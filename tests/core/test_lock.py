"""The lock (requirements/*.txt) is current, and the check CI runs catches a dependency added
to pyproject.toml without re-locking."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "lockfile.py"), "check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_committed_lock_matches_pyproject():
    result = check(ROOT)
    assert result.returncode == 0, result.stderr


def test_a_dependency_added_without_relocking_fails_the_check(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lockfile.py", tmp_path / "scripts")
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    added = pyproject.replace("dependencies = [\n", 'dependencies = [\n    "humanize>=4.0",\n', 1)
    assert added != pyproject
    (tmp_path / "pyproject.toml").write_text(added, encoding="utf-8")
    result = check(tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"requirements/{kind}.txt is stale: pyproject.toml's dependencies changed "
        "(not in it: humanize): run scripts/lock, then commit requirements/"
        for kind in ("runtime", "dev")
    ]

    # A changed bound of a locked package is a change too (the digest, not only the names).
    bumped = pyproject.replace('"pyjwt>=2.8"', '"pyjwt>=2.9"')
    assert bumped != pyproject
    (tmp_path / "pyproject.toml").write_text(bumped, encoding="utf-8")
    assert check(tmp_path).returncode == 1
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    assert check(tmp_path).returncode == 0
