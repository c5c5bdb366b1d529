"""Names of townships and counties, for exports that print them beside their codes: the
policy's `[divisions] names` first, then the names this package knows (the demo county's).
Villages carry their own names (the `villages` table)."""

from __future__ import annotations

from app.core.policy import Policy

# The generated demo county (app/demo.py): invented codes under city 4301.
DEMO_COUNTY = ("430199", "示范县")
DEMO_TOWNSHIPS = (("430199001", "东湖镇"), ("430199002", "青山铺镇"), ("430199003", "白沙乡"))
KNOWN: dict[str, str] = dict((DEMO_COUNTY, *DEMO_TOWNSHIPS))


class DivisionNames:
    """`name(code)`: a township's or county's name, or None when nobody said it."""

    def __init__(self, policy: Policy) -> None:
        self._names = {**KNOWN, **policy.divisions.names}

    def name(self, code: str | None) -> str | None:
        return self._names.get(code) if code else None

    def township(self, village_code: str | None) -> str | None:
        return self.name(village_code[:9]) if village_code else None

    def county(self, village_code: str | None) -> str | None:
        return self.name(village_code[:6]) if village_code else None
