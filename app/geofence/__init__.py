"""Geofencing: which village a GPS fix falls in, and how far it is from a village."""
