"""What every CLI command shares: consoles, settings, and how errors are reported."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

from caseledger.domain.moments import CHINA_TIME
from caseledger.errors import BatchRejected, CaseLedgerError
from caseledger.ledger import CaseLedger
from caseledger.rules import PackRegistry

__all__ = [
    "CHINA",
    "EXIT_REFUSED",
    "EXIT_TAMPERED",
    "Settings",
    "err",
    "fail",
    "open_ledger",
    "out",
    "parse_as_of",
    "reports_errors",
]

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
    allow_pack_code: bool = False

    def registry(self) -> PackRegistry:
        return PackRegistry.discover(self.packs_dirs, allow_code=self.allow_pack_code)


CHINA = CHINA_TIME


def parse_as_of(text: str | None) -> dt.datetime:
    """``--as-of``: an ISO time (no offset means +08:00), or a date (its end, +08:00);
    none means now. The only place the CLI reads the wall clock for a projection."""
    if text is None:
        return dt.datetime.now(CHINA)
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise fail(
            f"--as-of {text!r} is not a date (2026-03-16) or a time (2026-03-16T09:00:00+08:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def open_ledger(ctx: typer.Context) -> CaseLedger:
    """The ledger of ``--db``, judged by the installed packs and those of ``--packs-dir``."""
    settings: Settings = ctx.find_root().obj
    return CaseLedger(settings.db, packs=settings.registry())
