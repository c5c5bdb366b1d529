"""`zhucun` commands of the ledger domain."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this domain's commands to the `zhucun` command line."""
    del cli
