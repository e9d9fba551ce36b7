"""Every error caseledger raises on purpose.

One root, :class:`CaseLedgerError`; each error names what was wrong and how to fix it,
and keeps the facts as attributes so a program can act on them. Built-in bases are mixed
in, so ``except ValueError`` still catches a bad input::

    CaseLedgerError
    ├── InvalidCommand (ValueError)          a command or event line that does not validate
    │   └── InputLimitExceeded               one past a bound: size, nesting, items, characters
    ├── CaseNotFound (LookupError)           no case with that number
    ├── ProjectNotFound (LookupError)        no parallel-approval project with that number
    ├── CaseAlreadyExists (ValueError)       'received' for a case number already in use
    ├── IllegalTransition (ValueError)       the lifecycle does not allow that event now
    ├── CommandIdReused (ValueError)         a command id sent again with other content
    ├── ConcurrencyConflict                  another writer recorded on the case first
    ├── BatchRejected (ValueError)           a batch (or JSON Lines file) with bad items
    ├── LedgerURLError (ValueError)          a database URL caseledger cannot open
    ├── LedgerNotFound (LookupError)         an SQLite file that does not exist, opened to read
    ├── StoreError                           the database failed or holds undecodable data
    ├── SealError (ValueError)               a seal file that cannot be read
    │   └── SealOfAnotherLedger              a seal taken of another ledger
    ├── CalendarRangeError (ValueError)      a date outside the known calendar
    ├── PackError (ValueError)               a broken rule pack (file, field or line, fix)
    │   └── PackCodeNotAllowed               a pack folder with code, not allowed to run
    ├── PackParameterMissing (ValueError)    a rule pack judging with a parameter not given
    ├── UnknownRulePack (LookupError)        a case names a rule pack that is not installed
    ├── UnknownItem (LookupError)            an item code not in the rule pack's catalogue
    ├── UnknownFilterValue (LookupError)     a filter value (a department...) no case has
    ├── RecordedPackMissing (LookupError)    a case's recorded pack version is nowhere
    ├── RecordedPackAltered (ValueError)     a recorded pack's content does not give its hash
    ├── UnknownPackVersion (LookupError)     NAME@VERSION neither installed nor recorded
    ├── PackBaselineDiffers (ValueError)     a pack put in another's place on another baseline
    ├── CasesNotFound (LookupError)          a list of cases naming cases not in the ledger
    ├── InvalidToken (ValueError)            a bearer token that cannot be made as asked
    ├── TokenNotFound (LookupError)          no bearer token with that id
    ├── InvalidRequest (ValueError)          an HTTP request that is not JSON or has a bad parameter
    ├── NotAuthenticated                     an HTTP request without a valid bearer token
    ├── NotPermitted                         a token whose role may not do that
    └── ProofError (ValueError)              a checkpoint, proof, receipt or key not accepted
        ├── MalformedProof                   not of the documented form (names the field)
        ├── SignatureRejected                no valid signature by the key given
        ├── ProofRejected                    the hashes do not lead to the signed root
        ├── KeyFileError                     a key file or verifier key not of the format
        └── CheckpointOfAnotherLedger        a checkpoint of another ledger (not tampering)

Whenever one of these is raised by a command, nothing was recorded.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BatchItemError",
    "BatchRejected",
    "CalendarRangeError",
    "CaseAlreadyExists",
    "CaseLedgerError",
    "CaseNotFound",
    "CasesNotFound",
    "CheckpointOfAnotherLedger",
    "CommandIdReused",
    "ConcurrencyConflict",
    "IllegalTransition",
    "InputLimitExceeded",
    "InvalidCommand",
    "InvalidRequest",
    "InvalidToken",
    "KeyFileError",
    "LedgerNotFound",
    "LedgerURLError",
    "MalformedProof",
    "NotAuthenticated",
    "NotPermitted",
    "PackBaselineDiffers",
    "PackCodeNotAllowed",
    "PackError",
    "PackParameterMissing",
    "PackProblem",
    "ProjectNotFound",
    "ProofError",
    "ProofRejected",
    "RecordedPackAltered",
    "RecordedPackMissing",
    "SealError",
    "SealOfAnotherLedger",
    "SignatureRejected",
    "StoreError",
    "TokenNotFound",
    "UnknownFilterValue",
    "UnknownItem",
    "UnknownPackVersion",
    "UnknownRulePack",
]


def _near(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``word`` (a misspelling's likely meaning), closest first."""
    return difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)


def _counted(number: int, noun: str) -> str:
    """ "1 error", "2 errors"."""
    return f"{number} {noun if number == 1 else noun + 's'}"


def _did_you_mean(near: Sequence[str]) -> str:
    """`` (did you mean 'a' or 'b'?)``, or nothing without close matches."""
    if not near:
        return ""
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)"


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
        self.hint = hint
        message = f"case {case_no!r} is not in the ledger"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class ProjectNotFound(CaseLedgerError, LookupError):
    """No parallel-approval project is recorded under this project number."""

    def __init__(self, project_no: str, *, hint: str = "") -> None:
        self.project_no = project_no
        self.hint = hint
        message = f"project {project_no!r} is not in the ledger"
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
        # the stream's kind by its prefix (caseledger.domain.streams): "#" a project's, "@" a
        # pack version's (two ledgers recording one version at once), else a case's
        noun = {"#": "project", "@": "pack version"}.get(case_no[:1], "case")
        super().__init__(
            f"{noun} {case_no!r} changed while this command ran: expected version "
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
            f"{source} rejected, nothing recorded: {_counted(len(self.errors), 'error')}: "
            f"{shown}{more}"
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


class LedgerNotFound(CaseLedgerError, LookupError):
    """An SQLite ledger file that does not exist, opened without leave to create it.

    ``path`` is the file looked for; nothing was created.
    """

    def __init__(self, path: str, *, hint: str = "") -> None:
        self.path = path
        fix = hint or (
            "check the path, or open it with CaseLedger(url, create=True) to start a new ledger"
        )
        super().__init__(f"no ledger at {path!r}: the file does not exist; {fix}")


class StoreError(CaseLedgerError):
    """The database failed, or holds data caseledger cannot decode."""


class SealError(CaseLedgerError, ValueError):
    """A seal file that cannot be read or does not match its own digest."""


class SealOfAnotherLedger(SealError):
    """A seal taken of another ledger than the one it is verified against: not tampering,
    the wrong pair. ``sealed_ledger`` is the identity the seal records, ``ledger`` this
    ledger's (None if it has none yet: it was never sealed); ``matching`` counts the sealed
    heads this ledger nevertheless holds unchanged (a copy's, or a re-recorded export's)."""

    def __init__(
        self, source: str, sealed_ledger: str, ledger: str | None, *, matching: int = 0
    ) -> None:
        self.source = source
        self.sealed_ledger = sealed_ledger
        self.ledger = ledger
        self.matching = matching
        this = f"this ledger is {ledger}" if ledger else "this ledger was never sealed"
        same = (
            f"; {matching} of its sealed heads are here unchanged (a copy by content, not "
            "the sealed ledger)"
            if matching
            else ""
        )
        super().__init__(
            f"{source} was taken of another ledger (ledger {sealed_ledger}; {this}){same}: "
            "not a sign of tampering; "
            "verify it against the ledger it was taken of (--db), or take a seal of this "
            "one with `caseledger seal`"
        )


class CalendarRangeError(CaseLedgerError, ValueError):
    """A date outside the years the working-day calendar knows."""

    def __init__(
        self, day: dt.date, first: dt.date, last: dt.date, *, days: int | None = None
    ) -> None:
        self.day = day
        self.first = first
        self.last = last
        if days is not None:
            what = f"{days} working day{'' if days == 1 else 's'} after {day}"
        else:
            what = str(day)
        fix = (
            "check the date"
            if day < first
            else "check the date, or upgrade the holidays package for later years"
        )
        super().__init__(f"{what} is outside the known calendar ({first} to {last}); {fix}")


@dataclass(frozen=True)
class PackProblem:
    """One problem of a rule pack: the file, where in it (a field path or ``line N``), what
    is wrong, and how to fix it."""

    file: str
    where: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = (
            f"{self.file}: {self.where}: {self.message}"
            if self.where
            else f"{self.file}: {self.message}"
        )
        return f"{text} (fix: {self.fix})" if self.fix else text


class PackError(CaseLedgerError, ValueError):
    """A rule pack that cannot be used: each problem names file, field or line, and the fix."""

    def __init__(self, problems: Sequence[PackProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"broken rule pack: {shown}{more}")


_ALLOW_PACK_CODE = (
    "if you trust this code, allow pack code: caseledger --allow-pack-code ..., or "
    "CASELEDGER_ALLOW_PACK_CODE=1, or PackRegistry.discover(..., allow_code=True) in "
    "Python; or remove the file to use the pack as data only"
)


class PackCodeNotAllowed(PackError):
    """A pack folder that carries Python code, found where pack code is not allowed: the
    code was not run and nothing of the pack is used, its ``pack.toml`` included."""

    def __init__(self, folder: Path, code_file: Path, pack: str | None) -> None:
        self.folder = folder
        self.code_file = code_file
        self.pack = pack
        """The name its ``pack.toml`` gives, if it can be read."""
        named = f"pack {pack!r}" if pack else "its pack"
        super().__init__(
            [
                PackProblem(
                    str(code_file),
                    "",
                    f"the pack folder {folder} carries Python code, which would run as soon as "
                    f"the pack is loaded; it was not run, and {named} is not loaded (not its "
                    "pack.toml either: without its code it could judge otherwise)",
                    _ALLOW_PACK_CODE,
                )
            ]
        )


class PackParameterMissing(CaseLedgerError, ValueError):
    """A rule pack asked to judge (or record) a case while one of its parameters, a date its
    source does not give, has no value: it is a template for packs that extend it.

    ``parameters`` maps each parameter without a value to the pack that declares it.
    """

    def __init__(self, pack: str, parameters: Mapping[str, str]) -> None:
        self.pack = pack
        self.parameters = dict(sorted(parameters.items()))
        listed = ", ".join(
            f"{name!r} (declared by pack {declared!r})"
            for name, declared in self.parameters.items()
        )
        first = next(iter(self.parameters), "NAME")
        super().__init__(
            f"rule pack {pack!r} cannot judge cases: no value for its "
            f"{'parameter' if len(self.parameters) == 1 else 'parameters'} {listed}; "
            f"write a pack that extends {pack!r} and sets [parameters.{first}] value = "
            "YYYY-MM-DD with a reference to the document that gives it, and name that pack "
            "on acceptance"
        )


class UnknownRulePack(CaseLedgerError, LookupError):
    """A case names a rule pack that is not installed."""

    def __init__(self, name: str, installed: Sequence[str]) -> None:
        self.name = name
        self.installed = sorted(installed)
        self.near = _near(name, self.installed)
        """The installed packs whose names are closest to ``name``, closest first."""
        super().__init__(
            f"rule pack {name!r} is not installed{_did_you_mean(self.near)}; installed: "
            f"{', '.join(self.installed) or 'none'} (pip install the pack, or check the name)"
        )


class UnknownItem(CaseLedgerError, LookupError):
    """An item code that the rule pack's catalogue does not list (on that date)."""

    def __init__(self, pack: str, item_code: str, on: dt.date, *, near: Sequence[str] = ()) -> None:
        self.pack = pack
        self.item_code = item_code
        self.on = on
        hint = f"; similar codes: {', '.join(near)}" if near else ""
        super().__init__(
            f"item {item_code!r} is not in the catalogue of rule pack {pack!r} on {on}{hint}; "
            "use a code from `caseledger packs show " + pack + "`"
        )


class UnknownFilterValue(CaseLedgerError, LookupError):
    """A filter (``--department``, ``--window``, ``--item``, ``--status``...) given a value
    that no case in the ledger has: a misspelling, not an empty answer. ``known`` holds the
    values there are, ``near`` the closest to the one given."""

    def __init__(
        self, option: str, value: str, known: Iterable[str], *, vocabulary: str = ""
    ) -> None:
        self.option = option
        self.value = value
        self.known = sorted(known)
        self.near = _near(value, self.known)
        shown = self.known if vocabulary else self.known[:8]
        listed = ", ".join(shown) + (" ..." if len(shown) < len(self.known) else "")
        why = f"not a {vocabulary}" if vocabulary else "no case in the ledger has it"
        if vocabulary:
            there = f"give one of these: {listed}"
        else:
            there = f"the ledger has: {listed}" if self.known else "the ledger has no cases yet"
        super().__init__(f"{option} {value!r} is unknown: {why}{_did_you_mean(self.near)}; {there}")


# -- issue 12: rule-pack versions kept in the ledger ---------------------------------------


class RecordedPackMissing(CaseLedgerError, LookupError):
    """A case was accepted under a pack version that is neither installed nor recorded in
    this ledger (a ledger restored without its pack streams, or a command naming a version
    this ledger does not hold)."""

    def __init__(
        self, name: str, version: str | None, content_hash: str, case_no: str = ""
    ) -> None:
        self.name = name
        self.version = version
        self.content_hash = content_hash
        self.case_no = case_no
        whose = f"case {case_no!r} names" if case_no else "it names"
        super().__init__(
            f"rule pack {name!r} version {version or '?'} (content hash {content_hash}) is not "
            f"in this ledger's pack streams (stream '@{content_hash[:16]}…') nor installed; "
            f"{whose} it: install version {version or '?'} of {name!r}, restore the ledger with "
            "its pack streams, or judge under the installed version (judge_under='installed')"
        )


class RecordedPackAltered(CaseLedgerError, ValueError):
    """A recorded pack version's content does not give its content hash: it was altered."""

    def __init__(self, name: str, content_hash: str, found: str, why: str = "") -> None:
        self.name = name
        self.content_hash = content_hash
        self.found = found
        detail = f" ({why})" if why else ""
        super().__init__(
            f"the recorded content of rule pack {name!r} (stream '@{content_hash[:16]}…') "
            f"hashes to {found[:16]}…, not to its content hash {content_hash[:16]}…{detail}: "
            "the stored pack was altered; run `caseledger verify` and restore the ledger from "
            "a verified copy"
        )


class UnknownPackVersion(CaseLedgerError, LookupError):
    """A pack version asked for (``NAME@VERSION``, a ``judge_under``) that is neither installed
    nor recorded in the ledger, or a ``judge_under`` that is not a policy."""

    def __init__(self, asked: str, known: Sequence[str], *, why: str = "") -> None:
        self.asked = asked
        self.known = sorted(known)
        self.near = _near(asked, self.known)
        reason = why or "is neither installed nor recorded in this ledger"
        super().__init__(
            f"pack version {asked!r} {reason}{_did_you_mean(self.near)}; give 'recorded', "
            "'installed', NAME@VERSION of: "
            f"{', '.join(self.known) or 'none'} (caseledger packs history), or a pack folder"
        )


class PackBaselineDiffers(CaseLedgerError, ValueError):
    """A pack put in the place of another (a what-if, a diff) that does not rest on the same
    baseline pack: their judgements would not be comparable."""

    def __init__(self, name: str, expected: str, found: str) -> None:
        self.name = name
        self.expected = expected
        self.found = found
        super().__init__(
            f"pack {name!r} rests on baseline {found!r}, but the cases judged under {name!r} "
            f"rest on {expected!r}: make it extend the same baseline ({expected!r}) as the "
            "version it replaces"
        )


class CasesNotFound(CaseLedgerError, LookupError):
    """A list of cases (a what-if's) names cases the ledger does not hold."""

    def __init__(self, missing: Sequence[str], known: Iterable[str] = ()) -> None:
        self.missing = list(missing)
        self.near = _near(self.missing[0], known) if self.missing else []
        listed = ", ".join(repr(m) for m in self.missing[:8])
        more = " ..." if len(self.missing) > 8 else ""
        super().__init__(
            f"{_counted(len(self.missing), 'case')} not in the ledger: {listed}{more}"
            f"{_did_you_mean(self.near)}; check the numbers (caseledger cases)"
        )


# -- issue 13: the transparency log (checkpoints, proofs, receipts, keys) ---------------------


class ProofError(CaseLedgerError, ValueError):
    """A checkpoint, proof, receipt or key that cannot be accepted. ``source`` names the file
    (or text) given, ``field`` the part at fault (``tree size``, ``inclusion_proof[2]``,
    ``signature``...), ``problem`` what is wrong with it."""

    def __init__(self, source: str, field: str, problem: str, *, fix: str = "") -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}" + (f"; {fix}" if fix else ""))


class MalformedProof(ProofError):
    """Not of the documented form: truncated, not UTF-8 or JSON, a missing or extra line, a
    hash that is not base64 of 32 bytes, a number that is not a number."""


class SignatureRejected(ProofError):
    """No valid signature by the key given: signed by another key, or the text or the
    signature was altered after signing."""


class ProofRejected(ProofError):
    """Well formed and signed, but the hashes do not lead to the signed root: the event is
    not in the log the checkpoint signed, or the two checkpoints are of forked logs."""


class KeyFileError(ProofError):
    """A key (a signing key file, a verifier key) that cannot be read or is not of the
    signed-note key format."""


class CheckpointOfAnotherLedger(ProofError):
    """A checkpoint whose origin names another ledger than the one it is verified against:
    not tampering, the wrong pair."""

    def __init__(self, source: str, origin: str, expected: str) -> None:
        self.origin = origin
        self.expected = expected
        super().__init__(
            source,
            "origin",
            f"the checkpoint is of another ledger ({origin!r}; this ledger is {expected!r}): "
            "not a sign of tampering",
            fix="verify it against the ledger it was taken of (--db), or take a checkpoint "
            "of this one with `caseledger checkpoint`",
        )


# -- issue 14: the HTTP API's tokens ---------------------------------------------------------


class InvalidToken(CaseLedgerError, ValueError):
    """A bearer token that cannot be made as asked (an unknown role, a window without its
    department); ``problem`` says what, and nothing was stored."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"cannot make the token: {problem}")


class TokenNotFound(CaseLedgerError, LookupError):
    """No bearer token has this id."""

    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        super().__init__(
            f"no token has id {token_id!r}; `caseledger tokens list` shows the ids there are"
        )


class InvalidRequest(CaseLedgerError, ValueError):
    """An HTTP request whose body is not the JSON asked for, or whose parameter is malformed
    (HTTP 400); ``where`` names the body or the parameter. Nothing was recorded."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}; {fix}")


class NotAuthenticated(CaseLedgerError):
    """An HTTP request without a bearer token, or with one that is unknown, forged or
    revoked (HTTP 401)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"not authenticated: {reason}; send 'Authorization: Bearer SECRET' with a token "
            "made by `caseledger tokens new` (an administrator makes them)"
        )


class NotPermitted(CaseLedgerError):
    """A valid token whose role (or department) may not do what was asked (HTTP 403)."""

    def __init__(self, role: str, action: str, *, fix: str = "") -> None:
        self.role = role
        self.action = action
        super().__init__(
            f"a {role} token may not {action}; "
            + (fix or "ask an administrator for a token of a role that may")
        )


# -- issue 16: bounded input, and stores that fail in bounded time ---------------------------


_LIMIT_UNITS = {
    "max_bytes": ("bytes", "split it, or shorten its texts and lists"),
    "max_depth": ("levels of nesting", "a command nests objects 4 deep at most"),
    "max_items": ("items", "split the list over several commands"),
    "max_string_chars": ("characters", "shorten the text"),
}


class InputLimitExceeded(InvalidCommand):
    """A command passes one of the bounds of :data:`caseledger.domain.limits.COMMAND_LIMITS`.

    ``limit`` names the bound (``max_bytes``, ``max_depth``, ``max_items``,
    ``max_string_chars``), ``maximum`` is its value, ``path`` where the input passed it
    (empty for the whole command) and ``found`` what was found there."""

    def __init__(self, limit: str, maximum: int, path: str, found: int) -> None:
        self.limit = limit
        self.maximum = maximum
        self.path = path
        self.found = found
        unit, fix = _LIMIT_UNITS.get(limit, ("", "make it smaller"))
        super().__init__(
            [(path, f"{found:,} {unit} is over the limit {limit} = {maximum:,}; {fix}")]
        )
