"""The ``caseledger`` command line (typer, rich)."""

from caseledger.cli.app import app, main

__all__ = ["app", "main"]
