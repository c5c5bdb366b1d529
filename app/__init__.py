"""Zhucun (驻村): geofenced check-ins and presence ledger for village-resident officials."""
