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
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from caseledger.audit.chains import scan_chains
from caseledger.domain.chain import canonical_json
from caseledger.errors import SealError

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["CaseHead", "Seal", "load_seal", "take_seal"]


class CaseHead(BaseModel):
    """A case's last event at sealing time."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class Seal(BaseModel):
    """Every case's head at ``sealed_at``, and ``root``, the hash over all heads."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: Literal["caseledger-seal/1"] = "caseledger-seal/1"
    sealed_at: AwareDatetime
    events: int
    heads: dict[str, CaseHead]
    root: str

    @staticmethod
    def root_of(heads: dict[str, CaseHead], sealed_at: dt.datetime, events: int) -> str:
        data = {
            "heads": {case_no: [h.version, h.hash] for case_no, h in heads.items()},
            "sealed_at": sealed_at.isoformat(),
            "events": events,
        }
        return hashlib.sha256(canonical_json(data)).hexdigest()

    def to_json(self) -> bytes:
        return orjson.dumps(
            self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
        )


def take_seal(store: CaseStore, *, sealed_at: dt.datetime) -> Seal:
    """Seal the ledger as it is; refuses a ledger that does not verify."""
    report, _ = scan_chains(store)
    if not report.ok:
        first = report.breaks[0]
        raise SealError(f"the ledger does not verify, so it cannot be sealed: {first}")
    heads = {case_no: CaseHead(version=v, hash=h) for case_no, (v, h) in report.heads.items()}
    root = Seal.root_of(heads, sealed_at, report.events)
    return Seal(sealed_at=sealed_at, events=report.events, heads=heads, root=root)


def load_seal(path: Path) -> Seal:
    """Read a seal file, checking that its root matches its heads."""
    try:
        seal = Seal.model_validate_json(path.read_bytes())
    except OSError as error:
        raise SealError(f"cannot read seal {str(path)!r}: {error.strerror}") from error
    except ValidationError as error:
        raise SealError(f"{str(path)!r} is not a caseledger seal: {error}") from error
    if Seal.root_of(seal.heads, seal.sealed_at, seal.events) != seal.root:
        raise SealError(f"seal {str(path)!r} was altered: its root does not match its heads")
    return seal
