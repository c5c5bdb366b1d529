"""The presence ledger: one entry per member per local day, a pure function of the records."""
