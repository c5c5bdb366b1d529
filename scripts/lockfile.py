"""The lock's inputs, and whether requirements/*.txt still match pyproject.toml.

    python3 scripts/lockfile.py check    # exit 1 naming what changed since `scripts/lock`
    python3 scripts/lockfile.py stamp    # (scripts/lock) record the inputs in each lock file

Each lock file's first line is `# inputs: sha256:<digest>` of what it was compiled from:
requires-python, the build requirements (and requirements/build.in), and the runtime
dependencies (plus the dev extra for dev.txt). Only the standard library is used: this runs
before any virtual environment exists.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = {"runtime": ROOT / "requirements" / "runtime.txt", "dev": ROOT / "requirements" / "dev.txt"}
BUILD_IN = ROOT / "requirements" / "build.in"
PREFIX = "# inputs: sha256:"


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return sorted(s for line in text.splitlines() if (s := line.split("#")[0].strip()))


def inputs(kind: str) -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    chosen = {
        "requires-python": [meta.get("requires-python", "")],
        "build": sorted(project["build-system"]["requires"]) + _lines(BUILD_IN),
        "runtime": sorted(meta.get("dependencies", [])),
    }
    if kind == "dev":
        chosen["dev"] = sorted(meta.get("optional-dependencies", {}).get("dev", []))
    return chosen


def digest(kind: str) -> str:
    canonical = json.dumps(inputs(kind), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


def pinned(path: Path) -> set[str]:
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", path.read_text(), re.MULTILINE)
    return {_name(n) for n in found}


def problems() -> list[str]:
    found = []
    for kind, path in LOCKS.items():
        shown = path.relative_to(ROOT)
        if not path.exists():
            found.append(f"{shown} is missing")
            continue
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if first != PREFIX + digest(kind):
            wanted = inputs(kind)
            names = {_name(r) for key in ("build", "runtime", "dev") for r in wanted.get(key, [])}
            missing = sorted(names - pinned(path))
            why = f" (not in it: {', '.join(missing)})" if missing else ""
            found.append(f"{shown} is stale: pyproject.toml's dependencies changed{why}")
    return found


def stamp() -> None:
    for kind, path in LOCKS.items():
        body = path.read_text(encoding="utf-8")
        if body.startswith(PREFIX):
            body = body.split("\n", 1)[1]
        path.write_text(f"{PREFIX}{digest(kind)}\n{body}", encoding="utf-8")


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "stamp":
        stamp()
        return 0
    if command != "check":
        print(__doc__, file=sys.stderr)
        return 2
    found = problems()
    for problem in found:
        print(f"{problem}: run scripts/lock, then commit requirements/", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
