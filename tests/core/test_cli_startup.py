"""`zhucun --help` starts fast (issue 23 item 8): the command line imports typer and the
standard library, not the service (SQLAlchemy, FastAPI, pydantic, shapely, the models), which
used to take seconds before the first line of help. Measured against `python -c pass` in the
same test, as ratios, so that a slow machine does not fail it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HELP = """
import json, sys
sys.argv = ["zhucun", "--help"]
from app.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""
BARE = "import json, sys; print(json.dumps(sorted(sys.modules)))"
HEAVY = ("sqlalchemy", "fastapi", "pydantic", "pydantic_settings", "shapely", "app.models")


def _modules(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_help_imports_none_of_the_service():
    loaded = set(_modules(HELP))
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}
    # 172 modules against 68 for a bare interpreter when written (1,131 before).
    assert len(loaded) <= 4 * len(_modules(BARE))


def _fastest(args: list[str], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(args, capture_output=True, cwd=ROOT, check=True)
        best = min(best, time.perf_counter() - began)
    return best


def test_help_takes_a_few_interpreter_starts_not_dozens():
    bare = _fastest([sys.executable, "-c", "pass"])
    shown = _fastest([sys.executable, "-m", "app.cli", "--help"])
    # About 4x when written (0.57 s against 0.14 s on a busy machine); 40x before.
    assert shown / bare < 12, f"--help {shown:.2f} s, python -c pass {bare:.2f} s"
