"""What every CLI command shares: consoles, settings, the one way to open a ledger, the one
way to read ``--as-of``, plain help, and how errors are reported."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, overload

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from caseledger.domain.moments import CHINA_TIME
from caseledger.errors import BatchRejected, CaseLedgerError, LedgerNotFound
from caseledger.ledger import CaseLedger
from caseledger.rules import PackRegistry
from caseledger.store.url import parse_ledger_url

__all__ = [
    "CHINA",
    "EXIT_REFUSED",
    "EXIT_TAMPERED",
    "AsOf",
    "PlainCommand",
    "PlainGroup",
    "Settings",
    "err",
    "fail",
    "open_ledger",
    "out",
    "parse_as_of",
    "reports_errors",
    "write_private",
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


# -- plain help ------------------------------------------------------------------------------
# typer shows each parameter's Python type (<str>, <bool>, <list[Path]>) beside it; a user
# needs a word saying what to give (URL, TIME, N) or, for a flag, nothing.


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw.upper()
        return name if self.required else f"[{name}]"


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        return (self.name or "VALUE").upper()


def _plain(params: list[Any]) -> None:
    for param in params:
        # the plain classes only override how the help shows a parameter; no state of their own
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
        elif type(param) is TyperOption:
            param.__class__ = _PlainOption


class PlainCommand(TyperCommand):
    """A command whose help names what to give (``--db URL``), not a Python type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain([option])
        return option


class PlainGroup(TyperGroup):
    """A command group with plain help (see :class:`PlainCommand`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            _plain([option])
        return option


# -- settings and the one way to open a ledger ----------------------------------------------


@dataclass(frozen=True)
class Settings:
    db: str
    packs_dirs: tuple[Path, ...]
    allow_pack_code: bool = False
    create: bool = False

    def registry(self) -> PackRegistry:
        return PackRegistry.discover(self.packs_dirs, allow_code=self.allow_pack_code)


_MISSING_HINT = (
    "check the path (and --db or CASELEDGER_DB); `caseledger record FILE` creates a new "
    "ledger, or give --create to start an empty one"
)


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file of ``url`` if it does not exist yet (else None)."""
    location = parse_ledger_url(url)
    if location.backend != "sqlite":
        return None
    name = location.env["SQLITE_DBNAME"]
    if name == ":memory:" or name.startswith("file:") or os.path.exists(name):
        return None
    return Path(name)


@contextmanager
def open_ledger(ctx: typer.Context, *, create: bool = False) -> Iterator[CaseLedger]:
    """The ledger of ``--db``, judged by the installed packs and those of ``--packs-dir``,
    closed afterwards. Only commands that write (``create=True``: ``record``, ``demo``) or
    ``--create`` may create a missing SQLite file; a command that made the file and then
    failed removes it again, so a refused file leaves nothing behind."""
    settings: Settings = ctx.find_root().obj
    create = create or settings.create
    made = _new_sqlite_file(settings.db) if create else None
    try:
        ledger = CaseLedger(settings.db, packs=settings.registry(), create=create)
    except LedgerNotFound as missing:
        raise LedgerNotFound(missing.path, hint=_MISSING_HINT) from None
    try:
        yield ledger
    except BaseException:
        empty = False
        if made is not None:
            with suppress(CaseLedgerError):
                empty = ledger.verify().events == 0
        ledger.close()
        if made is not None and empty:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with suppress(FileNotFoundError):
                    os.remove(f"{made}{suffix}")
        raise
    ledger.close()


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, readable by its owner only (0600) whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as file:
            file.write(data)
    finally:
        os.close(fd)


# -- the one way to read --as-of ------------------------------------------------------------

CHINA = CHINA_TIME

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="TIME",
        help="A date (its end, 23:59:59 +08:00) or an ISO time (no offset means +08:00); "
        "default: now.",
    ),
]

_OLD_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d")


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA)


@overload
def parse_as_of(text: str | None, *, default_now: Literal[True] = True) -> dt.datetime: ...
@overload
def parse_as_of(text: str | None, *, default_now: bool) -> dt.datetime | None: ...
def parse_as_of(text: str | None, *, default_now: bool = True) -> dt.datetime | None:
    """``--as-of``: a date means its end (23:59:59 +08:00); an ISO time without an offset
    means +08:00. None means now (or, with ``default_now`` false, None: no cut-off). The only
    place the CLI reads the wall clock for a projection."""
    if text is None:
        return dt.datetime.now(CHINA) if default_now else None
    with suppress(ValueError):
        return _end_of(dt.date.fromisoformat(text))
    moment: dt.datetime | None = None
    with suppress(ValueError):
        moment = dt.datetime.fromisoformat(text)
    for form in _OLD_FORMATS:  # what `show --as-of` took through typer, e.g. 2026-3-5
        if moment is not None:
            break
        with suppress(ValueError):
            parsed = dt.datetime.strptime(text, form)
            moment = _end_of(parsed.date()) if form == "%Y-%m-%d" else parsed
    if moment is None:
        raise fail(
            f"--as-of {text!r} is not a date (2026-03-16) or a time (2026-03-16T09:00:00+08:00)"
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
