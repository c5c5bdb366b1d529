"""Shared core: configuration, database, errors, security, time, policy."""
