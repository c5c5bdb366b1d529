"""Check-ins: GPS fixes from members' phones, judged against village boundaries, append-only."""
