"""Seals: a signed-off snapshot of every case's head, kept outside the database.

A hash chain shows that nothing inside a case's stream was altered, removed or reordered,
but not that its last events were not cut off. An auditor therefore keeps a seal: the
version and hash of every case's last event at a moment, with a root hash over them all.
Verifying against it later proves every sealed event is still there, unchanged. Publish
the root (in a report, a letter, a newspaper) and the seal itself is tamper-evident too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from caseledger.audit.chains import scan_chains
from caseledger.audit.identity import ledger_identity
from caseledger.domain.chain import canonical_json
from caseledger.errors import SealError

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["SEAL_FORMAT", "CaseHead", "Seal", "load_seal", "parse_seal", "take_seal"]


class CaseHead(BaseModel):
    """A case's last event at sealing time."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


SEAL_FORMAT = "caseledger-seal/2"
"""The format of the seals taken now: ``caseledger-seal/1`` with the ledger's identity."""


class Seal(BaseModel):
    """Every case's head at ``sealed_at``, and ``root``, the hash over all heads (and over
    ``ledger``, the identity of the ledger sealed; a ``caseledger-seal/1`` seal, taken before
    ledgers had one, has none and verifies as it always did)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: Literal["caseledger-seal/1", "caseledger-seal/2"] = "caseledger-seal/1"
    ledger: str | None = Field(default=None, min_length=1, max_length=100)
    sealed_at: AwareDatetime
    events: int = Field(ge=0)
    heads: dict[str, CaseHead]
    root: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _ledger_matches_format(self) -> Seal:
        if self.format == "caseledger-seal/2" and self.ledger is None:
            raise ValueError("a caseledger-seal/2 seal names its ledger: 'ledger' is missing")
        if self.format == "caseledger-seal/1" and self.ledger is not None:
            raise ValueError("a caseledger-seal/1 seal names no ledger")
        return self

    @staticmethod
    def root_of(
        heads: dict[str, CaseHead],
        sealed_at: dt.datetime,
        events: int,
        ledger: str | None = None,
    ) -> str:
        data: dict[str, object] = {
            "heads": {case_no: [h.version, h.hash] for case_no, h in heads.items()},
            "sealed_at": sealed_at.isoformat(),
            "events": events,
        }
        if ledger is not None:  # seals of the first format keep their root
            data["ledger"] = ledger
        return hashlib.sha256(canonical_json(data)).hexdigest()

    def to_json(self) -> bytes:
        return orjson.dumps(
            self.model_dump(mode="json", exclude_none=True),
            option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2,
        )


def take_seal(store: CaseStore, *, sealed_at: dt.datetime) -> Seal:
    """Seal the ledger as it is, under its identity (made now if it has none yet); refuses a
    ledger that does not verify."""
    report, _ = scan_chains(store)
    if not report.ok:
        first = report.breaks[0]
        raise SealError(f"the ledger does not verify, so it cannot be sealed: {first}")
    ledger = ledger_identity(store, create=True)
    heads = {case_no: CaseHead(version=v, hash=h) for case_no, (v, h) in report.heads.items()}
    root = Seal.root_of(heads, sealed_at, report.events, ledger)
    return Seal(
        format=SEAL_FORMAT,
        ledger=ledger,
        sealed_at=sealed_at,
        events=report.events,
        heads=heads,
        root=root,
    )


_FIX = "give the seal file written by `caseledger seal --out FILE` (or ledger.seal().to_json())"


def _first_problem(error: ValidationError) -> str:
    """pydantic's first error in a few words: where, and what (never its input or links)."""
    problems = error.errors(include_url=False, include_input=False)
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "json_invalid":
        error_text = str(first.get("ctx", {}).get("error", message))
        return f"not JSON ({error_text}; a truncated or binary file?)"
    others = len(problems) - 1
    more = f" (and {others} more problem{'' if others == 1 else 's'})" if others else ""
    return f"{where + ': ' if where else ''}{message}{more}"


def load_seal(path: Path) -> Seal:
    """Read a seal file, checking that its root matches its heads; a file that is not a
    seal (not JSON, truncated, binary, other fields) is a :class:`SealError` in one line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SealError(f"cannot read seal {str(path)!r}: {error.strerror}") from error
    return parse_seal(data, source=repr(str(path)))


def parse_seal(data: bytes, *, source: str) -> Seal:
    """A seal from its JSON (``source`` names it in errors), as :func:`load_seal` reads it."""
    try:
        seal = Seal.model_validate_json(data)
    except ValidationError as error:
        raise SealError(
            f"{source} is not a caseledger seal: {_first_problem(error)}; {_FIX}"
        ) from None
    if Seal.root_of(seal.heads, seal.sealed_at, seal.events, seal.ledger) != seal.root:
        raise SealError(f"seal {source} was altered: its root does not match its heads")
    return seal
