"""What every CLI command shares: consoles, settings, the one way to open a ledger, the one
way to read ``--as-of``, plain help, and how errors are reported."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, overload

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from caseledger.domain.moments import CHINA_TIME
from caseledger.errors import (
    BatchRejected,
    CaseLedgerError,
    CaseNotFound,
    LedgerNotFound,
    ProjectNotFound,
)
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
    "as_of_day",
    "as_of_label",
    "check_calendar",
    "close_matches",
    "err",
    "fail",
    "open_ledger",
    "out",
    "parse_as_of",
    "reports_errors",
    "suggesting_streams",
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
                more = "error" if count == 2 else "errors"
                summary += f" (and {count - 1} more {more}, listed below)"
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

_MOMENT = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?)?"
    r"\s*(?P<z>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_FORMS = "a date (2026-03-16) or a time (2026-03-16T09:00, China time unless it gives an offset)"


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA)


def _offset(text: str | None) -> dt.tzinfo:
    if not text:
        return CHINA
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _parse(text: str) -> tuple[dt.datetime, bool]:
    """The moment ``text`` means, and whether it gave a time of day."""
    found = _MOMENT.fullmatch(text.strip())
    if found is None:
        try:  # what else ISO 8601 allows: 20260316, 2026-W12-1, 2026-03-16T0930...
            day = dt.date.fromisoformat(text)
        except ValueError:
            moment = dt.datetime.fromisoformat(text)
            return (moment if moment.tzinfo else moment.replace(tzinfo=CHINA)), True
        return _end_of(day), False
    g = found.groupdict()
    day = dt.date(int(g["y"]), int(g["m"]), int(g["d"]))
    if g["H"] is None:
        if g["z"]:
            raise ValueError("a date alone takes no offset; give a time with it")
        return _end_of(day), False
    clock = dt.time(
        int(g["H"]), int(g["M"] or 0), int(g["S"] or 0), int((g["f"] or "0").ljust(6, "0"))
    )
    return dt.datetime.combine(day, clock, tzinfo=_offset(g["z"])), True


def _bad_as_of(text: str, reason: str = "") -> typer.Exit:
    because = f": {reason}" if reason else ""
    return fail(f"--as-of {text!r} is not {_FORMS}{because}")


@overload
def parse_as_of(text: str | None, *, default_now: Literal[True] = True) -> dt.datetime: ...
@overload
def parse_as_of(text: str | None, *, default_now: bool) -> dt.datetime | None: ...
def parse_as_of(text: str | None, *, default_now: bool = True) -> dt.datetime | None:
    """``--as-of``: a date means its end (23:59:59 +08:00); a time keeps its time, and
    without an offset means +08:00. None means now (or, with ``default_now`` false, None: no
    cut-off). Every command reads it here, so every command takes the same forms and gives
    the same error for a bad one. The only place the CLI reads the wall clock for a
    projection."""
    if text is None:
        return dt.datetime.now(CHINA) if default_now else None
    try:
        moment, _ = _parse(text)
        moment.astimezone(dt.UTC)  # a moment that exists (not past the year 9999)
    except (ValueError, OverflowError) as error:
        reason = str(error)
        known = "does not match format" not in reason and "Invalid isoformat" not in reason
        raise _bad_as_of(text, reason if known else "") from None
    return moment


def as_of_day(text: str | None) -> dt.date:
    """The day of ``--as-of`` for a command that answers for a whole day (``board``,
    ``stats``): the day in China time. A time given with it is not dropped silently: a note
    on stderr says that the day's answer (as of its end) is shown."""
    moment = parse_as_of(text)
    day = moment.astimezone(CHINA).date()
    if text is not None and _parse(text)[1]:
        err.print(
            f"note: --as-of {text} is a time; this command answers for a whole day, so it "
            f"shows {day} as of its end",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    return day


def as_of_label(text: str | None, moment: dt.datetime) -> str:
    """How a title names ``--as-of``: its day, or with a time given, the time too."""
    local = moment.astimezone(CHINA)
    if text is not None and _parse(text)[1]:
        return local.strftime("%Y-%m-%d %H:%M")
    return local.date().isoformat()


def check_calendar(ledger: CaseLedger, day: dt.date) -> None:
    """Refuse a day outside the working-day calendar of the installed packs (the range every
    one of them knows) with :class:`CalendarRangeError`, before anything is shown."""
    ledger.packs.check_day(day)


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``word`` (what a misspelling likely meant), closest first;
    first those that differ only in how their numbers are padded (``QZ-2026-00003`` for
    ``QZ-2026-000003``), then the closest by spelling."""
    listed = list(candidates)
    same = [c for c in listed if c != word and _numbers(c) == _numbers(word)]
    near = difflib.get_close_matches(word, listed, n=n, cutoff=0.6)
    return [*same, *(c for c in near if c not in same)][:n]


def _numbers(text: str) -> tuple[str | int, ...]:
    """``text`` with each run of digits read as a number, letters compared in any case."""
    return tuple(int(part) if part.isdigit() else part.upper() for part in re.split(r"(\d+)", text))


@contextmanager
def suggesting_streams(ledger: CaseLedger) -> Iterator[None]:
    """Turn a bare :class:`CaseNotFound` (or :class:`ProjectNotFound`) into one that names
    the ledger's closest case (or project) numbers, or says how to list them."""
    try:
        yield
    except CaseNotFound as error:
        if error.hint:
            raise
        raise CaseNotFound(
            error.case_no,
            hint=_hint(error.case_no, ledger.case_numbers(), "caseledger cases", "cases"),
        ) from None
    except ProjectNotFound as error:
        if error.hint:
            raise
        raise ProjectNotFound(
            error.project_no,
            hint=_hint(
                error.project_no, ledger.project_numbers(), "caseledger parallel list", "projects"
            ),
        ) from None


def _hint(number: str, numbers: list[str], listing: str, noun: str) -> str:
    near = close_matches(number, numbers)
    if near:
        return f"did you mean {' or '.join(repr(n) for n in near)}?"
    if not numbers:
        return f"the ledger has no {noun} yet"
    return f"`{listing}` lists the {len(numbers)} {noun} there are"
