"""How the CLI shows cases, timelines and verification results (rich)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text

from caseledger.audit.chains import VerificationReport
from caseledger.domain.case import Case
from caseledger.domain.events import STORED_EVENT_TYPES, EventBody
from caseledger.domain.records import RecordedEvent
from caseledger.domain.vocabulary import CaseStatus

__all__ = [
    "ID",
    "NUMBER",
    "TEXT",
    "case_header",
    "cases_table",
    "counted",
    "days_left",
    "event_details",
    "new_table",
    "short_light",
    "timeline",
    "verification",
]

ID, NUMBER, TEXT = "id", "number", "text"
"""Kinds of column. An ID column (case numbers, item codes, windows, dates, codes) is
never wrapped, so an identifier stays whole on one line; a NUMBER column neither; a TEXT
column (names, titles, Chinese labels) takes what width is left and wraps, at a space where
it can, else between characters. Tables are laid out so that at 80 columns the ID and
NUMBER columns fit whole: where a row needs two identifiers they share a cell, one a line."""


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun`` in the form that number takes: "1 event", "2 events", "0
    events", "1 working day" ("s" is added to the last word unless ``plural`` is given)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def days_left(working_days_left: int | None) -> str:
    """A deadline's working days left, in words on two lines (so a table cell stays
    narrow): "1 working day" / "left", "3 working days" / "overdue"; "-" if none."""
    if working_days_left is None:
        return "-"
    if working_days_left < 0:
        return f"{counted(-working_days_left, 'working day')}\noverdue"
    return f"{counted(working_days_left, 'working day')}\nleft"


def new_table(title: str, columns: Iterable[tuple[str, str]]) -> Table:
    """A table of ``(header, kind)`` columns (see :data:`ID`)."""
    table = Table(title=title)
    for header, kind in columns:
        if kind == TEXT:
            table.add_column(header, overflow="fold")
        else:
            table.add_column(header, no_wrap=True, justify="right" if kind == NUMBER else "left")
    return table


def short_light(zh: str) -> str:
    """The light's name without its gloss: 红灯（超时/违规） -> 红灯."""
    return zh.split("（", 1)[0]


_STATUS_STYLE = {
    CaseStatus.APPROVED: "green",
    CaseStatus.DENIED: "red",
    CaseStatus.NOT_ACCEPTED: "red",
    CaseStatus.SUSPENDED: "yellow",
    CaseStatus.AWAITING_DOCUMENTS: "yellow",
}


def _status(status: CaseStatus) -> Text:
    return Text(status.label, style=_STATUS_STYLE.get(status, ""))


def event_details(body: EventBody, *, separator: str = "; ") -> str:
    """A summary of an event's fields, ``key: value`` joined by ``separator``."""
    fields = body.model_dump(mode="json", exclude={"type"}, exclude_none=True)
    parts = []
    for key, value in fields.items():
        if value in ([], {}, ""):
            continue
        if isinstance(value, dict):
            value = value.get("name") or value.get("code") or value.get("number") or value
        elif isinstance(value, list):
            value = ", ".join(str(v.get("name", v) if isinstance(v, dict) else v) for v in value)
        parts.append(f"{key}: {value}")
    return separator.join(parts)


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
    """A case's events: version, time, what happened and by whom, and each field a line."""
    table = new_table(
        "timeline", [("v", NUMBER), ("at", ID), ("event / by", TEXT), ("details", TEXT)]
    )
    for event in events:
        actor = event.actor
        table.add_row(
            str(event.version),
            event.at.strftime("%Y-%m-%d %H:%M"),
            f"{STORED_EVENT_TYPES[event.type].zh} {event.type}\nby {actor.person} {actor.role}",
            event_details(event.event, separator="\n"),
        )
    return table


def cases_table(cases: Iterable[Case], *, title: str = "cases", received: bool = False) -> Table:
    """Cases with their status and kind, item, number of events and the time of their last
    event (or, with ``received``, of their first)."""
    columns = [("case", ID), ("status / kind", TEXT), ("item", ID), ("events", NUMBER),
               ("received" if received else "last\nevent", ID)]  # fmt: skip
    table = new_table(title, columns)
    for case in cases:
        moment = case.events[0].at if received and case.events else case.last_at
        status = Text(case.status.zh, style=_STATUS_STYLE.get(case.status, ""))
        status.append("\n" + (case.case_kind.zh if case.case_kind else "-"))
        table.add_row(
            case.case_no,
            status,
            case.item_code or "-",
            str(case.version),
            moment.strftime("%Y-%m-%d %H:%M") if moment else "-",
        )
    return table


def verification(report: VerificationReport) -> Text:
    if report.ok:
        what = (
            f"{counted(report.events, 'event')} in "
            f"{counted(report.cases - report.projects, 'case')}"
        )
        if report.projects:
            what += f" and {counted(report.projects, 'project')}"
        if report.packs:
            what += f", with {counted(report.packs, 'rule-pack version')}"
        signed = (
            ""
            if report.checkpoint is None
            else f"; the {counted(report.checkpoint, 'event')} of the signed checkpoint unchanged"
        )
        return Text(f"verified: {what}, every chain intact{signed}", style="green")
    cases = len({b.case_no for b in report.breaks})
    lines = [f"TAMPERING DETECTED in {counted(cases, 'case')}:" if cases else "TAMPERING DETECTED:"]
    lines += [f"  {b}" for b in report.breaks]
    lines += [f"  the log: {problem}" for problem in report.problems]
    return Text("\n".join(lines), style="bold red")
