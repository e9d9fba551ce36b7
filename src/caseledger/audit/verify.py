"""Verifying a ledger: every chain (:mod:`.chains`); every sealed head, the sealed count and
time, if a seal is given (a seal taken earlier catches events removed from the end of a case,
which leave no gap in its chain, and events appended after it with a back-dated time); the
whole log against a signed checkpoint, if one is given (:mod:`.checkpoint`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from caseledger.audit.chains import ChainBreak, VerificationReport, scan_chains
from caseledger.audit.checkpoint import check_against
from caseledger.audit.identity import ledger_identity
from caseledger.audit.offline import Checkpoint, VerifierKey
from caseledger.audit.seal import Seal
from caseledger.domain.records import is_pack_stream
from caseledger.errors import SealOfAnotherLedger, StoreError

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["verify_store"]


def verify_store(
    store: CaseStore,
    *,
    seal: Seal | None = None,
    source: str = "the seal",
    checkpoint: Checkpoint | None = None,
    key: VerifierKey | None = None,
    checkpoint_source: str = "checkpoint",
) -> VerificationReport:
    """Verify every chain; every sealed head if a seal is given; the log against a checkpoint
    signed by ``key`` if one is given. A seal (or checkpoint) of another ledger is refused
    (:class:`SealOfAnotherLedger`, :class:`CheckpointOfAnotherLedger`, naming ``source``):
    it says nothing of this ledger, and comparing it would cry tampering."""
    report = _verify_seal(store, seal, source)
    if checkpoint is None or key is None:
        return report
    found = check_against(store, checkpoint, key, source=checkpoint_source)
    named = {(b.case_no, b.version) for b in report.breaks}
    breaks = [*report.breaks, *(b for b in found.breaks if (b.case_no, b.version) not in named)]
    return dataclasses.replace(
        report,
        breaks=tuple(sorted(breaks, key=lambda b: (b.case_no, b.version))),
        problems=report.problems + found.problems,
        checkpoint=checkpoint.size,
    )


def _verify_seal(store: CaseStore, seal: Seal | None, source: str) -> VerificationReport:
    watch = {case_no: head.version for case_no, head in (seal.heads.items() if seal else ())}
    report, watched = scan_chains(store, watch=watch)
    if seal is None:
        return report
    if seal.ledger is not None:
        identity = ledger_identity(store)
        if identity != seal.ledger:
            matching = sum(1 for c, h in seal.heads.items() if watched.get(c) == h.hash)
            raise SealOfAnotherLedger(source, seal.ledger, identity, matching=matching)
    breaks = {b.case_no: b for b in report.breaks}
    for case_no, head in seal.heads.items():
        if case_no in breaks:
            continue
        found = report.heads.get(case_no, (0, ""))[0]
        if found < head.version:
            breaks[case_no] = ChainBreak(
                case_no,
                found + 1,
                f"sealed at version {head.version} but only {found} "
                f"{'event remains' if found == 1 else 'events remain'}: "
                "events were removed from the end",
            )
        elif watched.get(case_no) != head.hash:
            breaks[case_no] = ChainBreak(
                case_no, head.version, "differs from the sealed head: the history was rewritten"
            )
    for late in _backdated(store, seal):
        breaks.setdefault(late.case_no, late)
    problems = report.problems
    if report.events < seal.events:
        problems += (
            f"the seal counts {seal.events} events, the log holds {report.events}: "
            "events were removed",
        )
    return VerificationReport(
        cases=report.cases,
        events=report.events,
        breaks=tuple(sorted(breaks.values(), key=lambda b: (b.case_no, b.version))),
        heads=report.heads,
        projects=report.projects,
        packs=report.packs,
        problems=problems,
    )


def _backdated(store: CaseStore, seal: Seal) -> list[ChainBreak]:
    """The events recorded after the seal's ``events`` first ones whose ``recorded_at`` is
    not after the seal's time: appended after sealing with a time set back (the seal would
    have counted them)."""
    found = []
    number = 0  # the seal counts the events of cases and projects, not of pack versions
    for row in store.notifications():
        case_no = str(row.originator_id)
        if is_pack_stream(case_no):
            continue
        number += 1
        if number <= seal.events:
            continue
        try:
            state = store.case_mapper.decode_bytes(row)
            recorded_at = dt.datetime.fromisoformat(str(state.get("recorded_at")))
            early = recorded_at < seal.sealed_at
        except (StoreError, ValueError, TypeError):
            continue  # an unreadable row: the chains name it
        if early:
            found.append(ChainBreak(
                case_no, row.originator_version,
                f"recorded at {recorded_at.isoformat()}, before the seal of "
                f"{seal.sealed_at.isoformat()}, yet not among its {seal.events} events: "
                "appended after the seal with its time set back",
            ))  # fmt: skip
    return found
