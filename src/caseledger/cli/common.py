"""What every CLI command shares: consoles, settings, and how errors are reported."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from caseledger.errors import BatchRejected, CaseLedgerError
from caseledger.rules import PackRegistry

__all__ = ["EXIT_REFUSED", "EXIT_TAMPERED", "Settings", "err", "fail", "out", "reports_errors"]

EXIT_REFUSED = 1
EXIT_TAMPERED = 3

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, details: list[str] | None = None, code: int = EXIT_REFUSED) -> typer.Exit:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    for line in details or []:
        err.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def reports_errors(command: F) -> F:
    """Turn caseledger's errors into a one-line reason on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BatchRejected as error:
            count = len(error.errors)
            summary = f"{error.source} rejected, nothing recorded: {error.errors[0]}"
            if count > 1:
                summary += f" (and {count - 1} more error(s), listed below)"
            raise fail(summary, [str(e) for e in error.errors] if count > 1 else []) from None
        except CaseLedgerError as error:
            raise fail(str(error)) from None

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Settings:
    db: str
    packs_dirs: tuple[Path, ...]

    def registry(self) -> PackRegistry:
        return PackRegistry.discover(self.packs_dirs)
