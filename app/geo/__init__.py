"""Geography: coordinate systems, boundaries and geofence geometry."""
