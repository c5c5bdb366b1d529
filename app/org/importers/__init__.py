"""Bulk imports of the org domain: village boundaries (GeoJSON) and the roster (CSV).

Each importer has a pure step (parse and validate, returning what it accepts or every problem
found) and an apply step that takes a session and only flushes: a file imports whole or not
at all.
"""
