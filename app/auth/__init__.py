"""Accounts, login with throttling, tokens, roles and scopes."""
