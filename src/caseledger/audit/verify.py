"""Verification of every case's hash chain, from the rows exactly as stored.

The scan reads the notification log once, in recording order, keeping only each case's
last version and hash, so it runs in memory proportional to the number of cases. For each
event it checks, in this order: the version follows the case's last one (else an event was
removed or reordered), the stored state can be read, ``prev_hash`` is the hash of the
previous event, and the event's own hash matches its content. The first failure of a case
is reported and the rest of that case is skipped. Removing a case's *last* events leaves
no gap to see; a :class:`~caseledger.audit.seal.Seal` taken earlier catches that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from caseledger.domain.chain import GENESIS_HASH, event_hash
from caseledger.domain.records import is_project_stream
from caseledger.errors import StoreError

if TYPE_CHECKING:
    from caseledger.audit.seal import Seal
    from caseledger.store.event_store import CaseStore

__all__ = ["ChainBreak", "VerificationReport", "scan_chains", "verify_store"]


@dataclass(frozen=True)
class ChainBreak:
    """The first event of a case that fails verification, and why."""

    case_no: str
    version: int
    problem: str

    def __str__(self) -> str:
        return f"case {self.case_no!r} version {self.version}: {self.problem}"


@dataclass(frozen=True)
class VerificationReport:
    """The result of verifying a ledger: ``ok`` when nothing is broken. ``cases`` counts
    every chain verified, a parallel-approval project's included; ``projects`` says how many
    of them are projects' (so ``cases - projects`` are cases')."""

    cases: int
    events: int
    breaks: tuple[ChainBreak, ...] = ()
    heads: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    projects: int = 0

    @property
    def ok(self) -> bool:
        return not self.breaks


def scan_chains(
    store: CaseStore, *, watch: dict[str, int] | None = None
) -> tuple[VerificationReport, dict[str, str]]:
    """Verify every chain; also return the hashes found at the ``watch``ed versions."""
    heads: dict[str, tuple[int, str]] = {}
    broken: dict[str, ChainBreak] = {}
    watched: dict[str, str] = {}
    watch = watch or {}
    events = 0
    for row in store.notifications():
        events += 1
        case_no, version = str(row.originator_id), row.originator_version
        if case_no in broken:
            continue
        last_version, last_hash = heads.get(case_no, (0, GENESIS_HASH))

        def fail(problem: str, at: int = version, case_no: str = case_no) -> None:
            broken[case_no] = ChainBreak(case_no, at, problem)

        if version != last_version + 1:
            if version > last_version + 1:
                missing = last_version + 1
                fail(f"missing: found version {version} after {last_version}", missing)
            else:
                fail(f"out of order: found after version {last_version}")
            continue
        try:
            state = store.case_mapper.decode_bytes(row)
        except StoreError as error:
            fail(f"unreadable stored state ({error.__cause__ or error})")
            continue
        stored_hash = state.pop("hash", None)
        if state.get("prev_hash") != last_hash:
            fail("prev_hash does not match the previous event: an event was replaced")
            continue
        if stored_hash != event_hash(case_no, version, row.topic, state):
            fail("content does not match its hash: the stored event was altered")
            continue
        assert isinstance(stored_hash, str)
        heads[case_no] = (version, stored_hash)
        if watch.get(case_no) == version:
            watched[case_no] = stored_hash
    streams = heads.keys() | broken.keys()
    report = VerificationReport(
        cases=len(streams),
        events=events,
        breaks=tuple(sorted(broken.values(), key=lambda b: (b.case_no, b.version))),
        heads=heads,
        projects=sum(1 for stream in streams if is_project_stream(stream)),
    )
    return report, watched


def verify_store(store: CaseStore, *, seal: Seal | None = None) -> VerificationReport:
    """Verify every chain, and every sealed head if a seal is given."""
    watch = {case_no: head.version for case_no, head in (seal.heads.items() if seal else ())}
    report, watched = scan_chains(store, watch=watch)
    if seal is None:
        return report
    breaks = {b.case_no: b for b in report.breaks}
    for case_no, head in seal.heads.items():
        if case_no in breaks:
            continue
        found = report.heads.get(case_no, (0, ""))[0]
        if found < head.version:
            breaks[case_no] = ChainBreak(
                case_no,
                found + 1,
                f"sealed at version {head.version} but only {found} event(s) remain: "
                "events were removed from the end",
            )
        elif watched.get(case_no) != head.hash:
            breaks[case_no] = ChainBreak(
                case_no, head.version, "differs from the sealed head: the history was rewritten"
            )
    return VerificationReport(
        cases=report.cases,
        events=report.events,
        breaks=tuple(sorted(breaks.values(), key=lambda b: (b.case_no, b.version))),
        heads=report.heads,
        projects=report.projects,
    )
