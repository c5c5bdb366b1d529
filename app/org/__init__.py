"""Divisions, villages (with versioned boundaries), dispatching units, members, assignments."""
