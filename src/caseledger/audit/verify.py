"""Verifying a ledger: every chain (:mod:`.chains`), and every sealed head if a seal is given
(a seal taken earlier catches events removed from the end of a case, which leave no gap in
its chain)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from caseledger.audit.chains import ChainBreak, VerificationReport, scan_chains
from caseledger.audit.identity import ledger_identity
from caseledger.audit.seal import Seal
from caseledger.errors import SealOfAnotherLedger

if TYPE_CHECKING:
    from caseledger.store.event_store import CaseStore

__all__ = ["verify_store"]


def verify_store(
    store: CaseStore, *, seal: Seal | None = None, source: str = "the seal"
) -> VerificationReport:
    """Verify every chain, and every sealed head if a seal is given. A seal that records
    another ledger's identity is refused (:class:`SealOfAnotherLedger`, naming ``source``):
    its heads say nothing of this ledger, and comparing them would cry tampering."""
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
    return VerificationReport(
        cases=report.cases,
        events=report.events,
        breaks=tuple(sorted(breaks.values(), key=lambda b: (b.case_no, b.version))),
        heads=report.heads,
        projects=report.projects,
        packs=report.packs,
    )
