"""Write or check `openapi/openapi.json`, the contract apps generate clients from.

python -m app.openapi          # regenerate
python -m app.openapi --check  # exit 1 when the committed file differs from the app
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.core.config import Settings
from app.main import create_app

PATH = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def render() -> str:
    # The schema needs no database (the engine is made when the app starts serving).
    app = create_app(Settings(DATABASE_URL="sqlite:///:memory:", ZHUCUN_LOG_LEVEL="WARNING"))
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PATH.exists() or PATH.read_text(encoding="utf-8") != text:
            print(f"{PATH} is out of date: run `python -m app.openapi`", file=sys.stderr)
            return 1
        return 0
    PATH.parent.mkdir(exist_ok=True)
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
