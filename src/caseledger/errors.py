"""Every error caseledger raises on purpose.

One root, :class:`CaseLedgerError`; each error names what was wrong and how to fix it,
and keeps the facts as attributes so a program can act on them. Built-in bases are mixed
in, so ``except ValueError`` still catches a bad input::

    CaseLedgerError
    ├── InvalidCommand (ValueError)          a command or event line that does not validate
    ├── CaseNotFound (LookupError)           no case with that number
    ├── CaseAlreadyExists (ValueError)       'received' for a case number already in use
    ├── IllegalTransition (ValueError)       the lifecycle does not allow that event now
    ├── CommandIdReused (ValueError)         a command id sent again with other content
    ├── ConcurrencyConflict                  another writer recorded on the case first
    ├── BatchRejected (ValueError)           a batch (or JSON Lines file) with bad items
    ├── LedgerURLError (ValueError)          a database URL caseledger cannot open
    ├── StoreError                           the database failed or holds undecodable data
    └── SealError (ValueError)               a seal file that cannot be read

Whenever one of these is raised by a command, nothing was recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BatchItemError",
    "BatchRejected",
    "CaseAlreadyExists",
    "CaseLedgerError",
    "CaseNotFound",
    "CommandIdReused",
    "ConcurrencyConflict",
    "IllegalTransition",
    "InvalidCommand",
    "LedgerURLError",
    "SealError",
    "StoreError",
]


class CaseLedgerError(Exception):
    """The root of every error caseledger raises on purpose."""


class InvalidCommand(CaseLedgerError, ValueError):
    """A command or event line does not validate.

    ``problems`` lists ``(field path, message)`` pairs, e.g. ``("event.item_code", "Field
    required")``.
    """

    def __init__(self, problems: Sequence[tuple[str, str]], *, source: str = "command") -> None:
        self.problems = list(problems)
        self.source = source
        listed = "; ".join(f"{path or '(whole)'}: {message}" for path, message in self.problems)
        super().__init__(f"invalid {source}: {listed}")


class CaseNotFound(CaseLedgerError, LookupError):
    """No case is recorded under this case number."""

    def __init__(self, case_no: str, *, hint: str = "") -> None:
        self.case_no = case_no
        message = f"case {case_no!r} is not in the ledger"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class CaseAlreadyExists(CaseLedgerError, ValueError):
    """A 'received' event names a case number that is already in use."""

    def __init__(self, case_no: str) -> None:
        self.case_no = case_no
        super().__init__(
            f"case {case_no!r} was already received; give the new case its own case number, "
            "or resend the original command id if this is a retry"
        )


class IllegalTransition(CaseLedgerError, ValueError):
    """The case's lifecycle does not allow this event in its current state."""

    def __init__(
        self,
        case_no: str,
        state: str,
        action: str,
        allowed: Sequence[str],
        *,
        reason: str = "",
    ) -> None:
        self.case_no = case_no
        self.state = state
        self.action = action
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "nothing (the case is closed)"
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"case {case_no!r} is {state!r}: cannot record {action!r}{why}; "
            f"allowed now: {allowed_text}"
        )


class CommandIdReused(CaseLedgerError, ValueError):
    """A command id already recorded on the case was sent again with different content."""

    def __init__(self, case_no: str, command_id: str, version: int) -> None:
        self.case_no = case_no
        self.command_id = command_id
        self.version = version
        super().__init__(
            f"command id {command_id!r} was already recorded on case {case_no!r} "
            f"as version {version} with different content; a retry must resend the same "
            "command unchanged, and a new command needs a new command id"
        )


class ConcurrencyConflict(CaseLedgerError):
    """Another writer recorded on the case between our read and our write.

    Nothing of ours was recorded. Read the case again and retry the command: with the same
    command id, a retry is safe even if the first attempt did land.
    """

    def __init__(self, case_no: str, expected_version: int, actual_version: int | None) -> None:
        self.case_no = case_no
        self.expected_version = expected_version
        self.actual_version = actual_version
        actual = "a newer version" if actual_version is None else f"version {actual_version}"
        super().__init__(
            f"case {case_no!r} changed while this command ran: expected version "
            f"{expected_version}, found {actual}; nothing was recorded, retry the command"
        )


@dataclass(frozen=True)
class BatchItemError:
    """One bad item in a batch: its 1-based position (the line number for a file; 0 for the
    whole file), the field path (empty when the whole item is at fault), and the message."""

    position: int
    field: str
    message: str

    def __str__(self) -> str:
        where = [f"line {self.position}"] if self.position else []
        if self.field:
            where.append(self.field)
        return ": ".join([", ".join(where), self.message] if where else [self.message])


class BatchRejected(CaseLedgerError, ValueError):
    """A batch had bad items; none of the batch was recorded."""

    def __init__(self, errors: Sequence[BatchItemError], *, source: str = "batch") -> None:
        self.errors = list(errors)
        self.source = source
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(
            f"{source} rejected, nothing recorded: {len(self.errors)} error(s): {shown}{more}"
        )


class LedgerURLError(CaseLedgerError, ValueError):
    """A database URL caseledger cannot open."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(
            f"cannot open ledger {url!r}: {problem}; use sqlite:///PATH, sqlite:///:memory: "
            "or postgresql://USER@HOST:PORT/DBNAME[?schema=NAME]"
        )


class StoreError(CaseLedgerError):
    """The database failed, or holds data caseledger cannot decode."""


class SealError(CaseLedgerError, ValueError):
    """A seal file that cannot be read or does not match its own digest."""
