"""How the CLI shows cases, timelines and verification results (rich)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from caseledger.audit.verify import VerificationReport
from caseledger.domain.case import Case
from caseledger.domain.events import STORED_EVENT_TYPES, EventBody
from caseledger.domain.records import RecordedEvent
from caseledger.domain.vocabulary import CaseStatus

__all__ = ["case_header", "cases_table", "event_details", "timeline", "verification"]

_STATUS_STYLE = {
    CaseStatus.APPROVED: "green",
    CaseStatus.DENIED: "red",
    CaseStatus.NOT_ACCEPTED: "red",
    CaseStatus.SUSPENDED: "yellow",
    CaseStatus.AWAITING_DOCUMENTS: "yellow",
}


def _status(status: CaseStatus) -> Text:
    return Text(status.label, style=_STATUS_STYLE.get(status, ""))


def event_details(body: EventBody) -> str:
    """A one-line summary of an event's fields."""
    fields = body.model_dump(mode="json", exclude={"type"}, exclude_none=True)
    parts = []
    for key, value in fields.items():
        if value in ([], {}, ""):
            continue
        if isinstance(value, dict):
            value = value.get("name") or value.get("code") or value.get("number") or value
        elif isinstance(value, list):
            value = ", ".join(str(v.get("name", v) if isinstance(v, dict) else v) for v in value)
        parts.append(f"{key}={value}")
    return "; ".join(parts)


def case_header(case: Case) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("case", case.case_no)
    grid.add_row("status", _status(case.status))
    grid.add_row("item", case.item_code or "-")
    grid.add_row("kind", case.case_kind.label if case.case_kind else "-")
    grid.add_row("rule pack", case.rule_pack or "-")
    grid.add_row("holder", f"{case.holder.kind.zh} {case.holder.code}" if case.holder else "-")
    if case.outstanding_documents:
        grid.add_row("missing", ", ".join(case.outstanding_documents))
    grid.add_row("head", f"version {case.version}, hash {case.last_hash[:16]}…")
    return grid


def timeline(events: Iterable[RecordedEvent]) -> Table:
    table = Table(title="timeline", show_lines=False)
    table.add_column("v", justify="right")
    table.add_column("at")
    table.add_column("event")
    table.add_column("by")
    table.add_column("details", overflow="fold")
    for event in events:
        actor = event.actor
        table.add_row(
            str(event.version),
            event.at.strftime("%Y-%m-%d %H:%M"),
            f"{STORED_EVENT_TYPES[event.type].zh} {event.type}",
            f"{actor.person} {actor.role}",
            event_details(event.event),
        )
    return table


def cases_table(cases: Iterable[Case], *, title: str = "cases") -> Table:
    table = Table(title=title)
    table.add_column("case", no_wrap=True)
    table.add_column("status")
    table.add_column("item")
    table.add_column("kind")
    table.add_column("events", justify="right")
    table.add_column("last event")
    for case in cases:
        table.add_row(
            case.case_no,
            Text(case.status.zh, style=_STATUS_STYLE.get(case.status, "")),
            case.item_code or "-",
            case.case_kind.zh if case.case_kind else "-",
            str(case.version),
            case.last_at.strftime("%Y-%m-%d %H:%M") if case.last_at else "-",
        )
    return table


def verification(report: VerificationReport) -> Text:
    if report.ok:
        return Text(
            f"verified: {report.events} events in {report.cases} cases, every chain intact",
            style="green",
        )
    lines = [f"TAMPERING DETECTED in {len(report.breaks)} case(s):"]
    lines += [f"  {b}" for b in report.breaks]
    return Text("\n".join(lines), style="bold red")
