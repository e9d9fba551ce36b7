"""``caseledger cases``: which cases to list (filters and paging) and each one's JSON line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from caseledger.domain.case import Case
from caseledger.domain.vocabulary import CaseStatus
from caseledger.errors import UnknownFilterValue
from caseledger.ledger import CaseLedger

__all__ = [
    "CaseFilter",
    "case_summary",
    "check_case_filter",
    "department_of",
    "received_order",
    "select_cases",
]


@dataclass(frozen=True)
class CaseFilter:
    """What a listed case must match; None matches anything."""

    status: str | None = None
    """The status's value (``approved``) or its Chinese term (``准予许可``)."""
    pack: str | None = None
    department: str | None = None
    item: str | None = None

    def matches(self, case: Case) -> bool:
        if self.status is not None and self.status not in (case.status.value, case.status.zh):
            return False
        if self.pack is not None and case.rule_pack != self.pack:
            return False
        if self.department is not None and department_of(case) != self.department:
            return False
        return self.item is None or case.item_code == self.item

    @property
    def empty(self) -> bool:
        return self == CaseFilter()


def department_of(case: Case) -> str | None:
    """The department that received the case (the actor of its first event)."""
    return case.events[0].actor.department if case.events else None


def received_order(case: Case) -> tuple[dt.datetime, str]:
    """Sort key: when the case was received (business time), then its number."""
    first = case.events[0].at.astimezone(dt.UTC) if case.events else dt.datetime.max
    return first.replace(tzinfo=None), case.case_no


def select_cases(
    ledger: CaseLedger, wanted: CaseFilter, *, offset: int = 0, limit: int | None = None
) -> Iterator[Case]:
    """The cases matching ``wanted`` in the order they were first recorded, skipping the
    first ``offset`` matches and stopping after ``limit``. Without a filter only the cases
    of the page are read."""
    numbers = ledger.case_numbers()
    if wanted.empty:
        end = None if limit is None else offset + limit
        for case_no in numbers[offset:end]:
            yield ledger.case(case_no)
        return
    skipped = given = 0
    for case_no in numbers:
        if limit is not None and given >= limit:
            return
        case = ledger.case(case_no)
        if not wanted.matches(case):
            continue
        if skipped < offset:
            skipped += 1
            continue
        given += 1
        yield case


def check_case_filter(ledger: CaseLedger, wanted: CaseFilter) -> None:
    """Refuse a filter value that no case could match (:class:`UnknownFilterValue`, naming
    the closest values): a status that is not one, a pack that is neither installed nor
    named by a case, a department or item code no case has. Called when nothing matched, so
    a misspelling is said to be one, not shown as an empty list."""
    if wanted.status is not None:
        statuses = {s.value for s in CaseStatus} | {s.zh for s in CaseStatus}
        if wanted.status not in statuses:
            raise UnknownFilterValue(
                "--status", wanted.status, {s.value for s in CaseStatus}, vocabulary="case status"
            )
    if wanted.pack is None and wanted.department is None and wanted.item is None:
        return
    packs, departments, items = set(ledger.packs.names()), set(), set()
    for case in ledger.cases():
        packs.add(case.rule_pack or "")
        departments.add(department_of(case) or "")
        items.add(case.item_code or "")
    for option, value, known in (
        ("--pack", wanted.pack, packs),
        ("--department", wanted.department, departments),
        ("--item", wanted.item, items),
    ):
        if value is not None and value not in known:
            raise UnknownFilterValue(option, value, known - {""})


def case_summary(case: Case) -> dict[str, Any]:
    """One line of ``cases --json``."""
    first = case.events[0] if case.events else None
    return {
        "case_no": case.case_no,
        "status": case.status.value,
        "item_code": case.item_code,
        "case_kind": case.case_kind.value if case.case_kind else None,
        "rule_pack": case.rule_pack,
        "department": department_of(case),
        "received_at": first.at.isoformat() if first else None,
        "last_at": case.last_at.isoformat() if case.last_at else None,
        "version": case.version,
        "hash": case.last_hash,
    }
