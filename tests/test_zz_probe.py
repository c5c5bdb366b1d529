import pytest

PROBES = [
    "/reports/presence?from=0001-01-01&to=0001-01-05&format=json",
    "/reports/presence?from=2026-01-01&to=2026-01-05&format=json&cursor=WyJhIl0",
    "/reports/compliance?period=0001Q1&format=json",
    "/reports/monthly?month=0001-01&format=json",
    "/compliance?period=0001Q1",
    "/compliance?period=9999Q4",
    "/compliance?period=2026Q4&cursor=WyJhIl0",
    "/compliance/members/1?period=0001Q1",
    "/compliance/members/2147483648?period=2026Q4",
    "/compliance/members/1/annual?year=1",
    "/roll-calls/99999999999999999999",
    "/roll-calls?cursor=WzFlOTk5XQ",
    "/inspections?from=0001-01-01&to=0001-01-05",
    "/inspections/2147483648",
    "/events?cursor=WyJhIl0",
    "/events/2147483648",
    "/rectifications/2147483648",
    "/rectifications?cursor=W251bGxd",
    "/reports/receipts/99999999999999999999",
    "/dashboard/overview?date=0001-01-01",
    "/dashboard/villages/430121001001?date=0001-01-01",
    "/villages/430121001001/wifi",
]


@pytest.mark.parametrize("path", PROBES)
def test_probe(world, path):
    r = world.get("city", path)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])
