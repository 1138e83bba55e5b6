"""The `hotfix` command line: parse → call a service → print text or --json."""

from .main import cli, main

__all__ = ["cli", "main"]
