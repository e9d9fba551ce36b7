"""Hypothesis strategies for deadline logic: dates, calendars, packs and case histories.

Needs hypothesis (``pip install 'caseledger[testing]'``). Every strategy shrinks towards
short, plain examples: the fewest events, the earliest dates, the national defaults.

- :func:`dates_near_holidays`: days close to statutory holidays and make-up working days,
  where counting mistakes hide;
- :func:`calendars`: the official calendar with random local days off and working days;
- :func:`packs`: packs extending ``national`` with varied limits, thresholds and clock rules;
- :func:`case_histories`: valid histories of one case under a pack, through every path of the
  lifecycle (documents, transfers, pauses, extensions, escalations, decisions, certificates,
  revocations, complaints).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from caseledger.calendar import CalendarDay, WorkingCalendar, calendar_for
from caseledger.domain.case import Case
from caseledger.domain.moments import CHINA_TIME as CST
from caseledger.domain.records import Command
from caseledger.domain.vocabulary import Stage
from caseledger.rules.model import PackData
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import PackRegistry
from caseledger.rules.validation import check_pack

__all__ = [
    "STAFF",
    "calendars",
    "case_histories",
    "dates_near_holidays",
    "event_body",
    "packs",
    "working_days",
]

_FIRST, _LAST = dt.date(2024, 1, 1), dt.date(2026, 6, 30)


def _special_days(calendar: WorkingCalendar, first: dt.date, last: dt.date) -> list[dt.date]:
    """Weekday holidays and weekend working days between ``first`` and ``last``."""
    return sorted(
        {d for d in calendar.non_working_days_in(first, last) if d.weekday() < 5}
        | {d for d in calendar.working_days_in(first, last) if d.weekday() >= 5}
    )


def dates_near_holidays(
    first: dt.date = _FIRST, last: dt.date = _LAST, *, calendar: WorkingCalendar | None = None
) -> st.SearchStrategy[dt.date]:
    """Dates within a week of a statutory holiday or make-up working day (and, less often,
    any date in the range)."""
    calendar = calendar or calendar_for()
    anchors = _special_days(calendar, first, last)
    near = st.builds(
        lambda anchor, shift: min(last, max(first, anchor + dt.timedelta(days=shift))),
        st.sampled_from(anchors),
        st.integers(-7, 7),
    )
    return near | st.dates(min_value=first, max_value=last)


def working_days(max_days: int = 120) -> st.SearchStrategy[int]:
    """A number of working days for a limit, pause or extension."""
    return st.integers(min_value=0, max_value=max_days)


@st.composite
def calendars(draw: st.DrawFn, first: dt.date = _FIRST, last: dt.date = _LAST) -> WorkingCalendar:
    """The official calendar with up to three local additions in ``first``..``last``."""
    additions = draw(
        st.lists(
            st.builds(
                lambda day, working: CalendarDay(day, working, "local", "generated"),
                st.dates(min_value=first, max_value=last),
                st.booleans(),
            ),
            max_size=3,
            unique_by=lambda d: d.date,
        )
    )
    return calendar_for(additions)


@st.composite
def packs(draw: st.DrawFn, registry: PackRegistry | None = None) -> RulePack:
    """A pack extending ``national`` with a varied decision limit, yellow threshold, clock
    rule for documents missing after acceptance, and a catalogue of two items."""
    registry = registry or PackRegistry.discover()
    national = registry.get("national")
    since = "2004-07-01"
    decision = draw(st.integers(1, 60))
    promised = draw(st.none() | st.integers(0, decision))
    threshold = draw(
        st.none()
        | st.builds(lambda n: {"working_days_left": n}, st.integers(0, 10))
        | st.builds(lambda x: {"share_used": x}, st.sampled_from([0.5, 0.75, 0.9]))
    )
    effect = draw(st.sampled_from(["none", "pause", "restart"]))
    item = {
        "from": since,
        "name": "生成事项",
        "department": "生成部门",
        "case_kind": "promised",
        "reference": "generated",
    }
    raw: dict[str, Any] = {
        "pack": {
            "name": "generated",
            "version": "1",
            "title": "生成的规则包 (generated)",
            "extends": "national",
            "catalogue": "closed",
            "reference": "caseledger.testing.strategies.packs",
        },
        "limits": {
            "decision": [
                {
                    "from": since,
                    "working_days": decision,
                    "label": "期限",
                    "reference": "generated",
                    "override": True,
                }
            ]
        },
        "clock": {
            "documents_requested.tolerated": [
                {"from": since, "effect": effect, "reference": "generated", "override": True}
            ]
        },
        "items": {
            "ITEM-1": [{**item, **({"promised_limit": promised} if promised is not None else {})}],
            "ITEM-2": [{**item, "statutory_limit": draw(st.integers(1, 30))}],
        },
    }
    if threshold is not None:
        raw["thresholds"] = {"yellow": [{"from": since, "reference": "generated", **threshold}]}
    pack = RulePack(PackData.model_validate(raw), "<generated>", national)
    problems = check_pack(pack)
    if problems:  # a bug in this strategy, not in the code under test
        raise AssertionError(f"generated an invalid pack: {problems}")
    return pack


STAFF = st.sampled_from(
    [
        {"person": "A1", "role": "window_a", "department": "D1", "window": "W1"},
        {"person": "B1", "role": "window_b", "department": "D1", "window": "W1"},
        {"person": "C1", "role": "chief_representative", "department": "D1"},
        {"person": "K1", "role": "section_chief", "department": "D1"},
    ]
)
_DOCS = ["身份证明", "平面图", "章程", "委托书"]
_TEXT = st.sampled_from(["情况复杂", "材料不全", "专家评审", "申请人要求"])


def event_body(
    draw: st.DrawFn, action: str, case: Case, items: list[str], pack: str
) -> dict[str, Any]:
    """A body for ``action`` that the lifecycle accepts in the state of ``case``."""
    if action == "accepted":
        kind = draw(st.sampled_from(["immediate", "promised", "joint", "reported"]))
        return {"item_code": draw(st.sampled_from(items)), "case_kind": kind, "rule_pack": pack}
    if action == "documents_requested":
        missing = draw(st.lists(st.sampled_from(_DOCS), min_size=1, max_size=3, unique=True))
        mode = draw(st.sampled_from(["correction", "tolerated"]))
        return {
            "mode": mode,
            "missing": [{"name": m} for m in missing],
            "notice_date": "2024-01-02",
        }
    if action == "documents_supplemented":
        docs = draw(st.lists(st.sampled_from(case.outstanding_documents), min_size=1, unique=True))
        return {"documents": docs}
    if action == "transferred":
        code = draw(st.sampled_from(["W2", "W3", "D2"]))
        return {"to": {"kind": "window", "code": code}, "reason": draw(_TEXT)}
    if action == "clock_suspended":
        reason = draw(st.sampled_from(["hearing", "testing", "expert_review", "appraisal"]))
        notice = draw(st.none() | st.just({"number": "N1", "date": "2024-01-02"}))
        return {"reason": reason, "notice": notice}
    if action == "extended":
        approver = {"person": "H1", "role": "department_head", "department": "D1"}
        return {"working_days": draw(st.integers(1, 15)), "approver": approver,
                "reason": draw(_TEXT)}  # fmt: skip
    if action == "stage_completed":
        return {"stage": list(Stage)[len(case.stages_completed)].value}
    if action == "escalated":
        return {"to": draw(st.sampled_from(["higher_level", "supervision_office"])),
                "reason": draw(_TEXT)}  # fmt: skip
    if action == "approved":
        return {"decision_no": "D-1"}
    if action == "denied":
        return {"decision_no": "D-1", "reason": "不符合条件"}
    if action == "not_accepted":
        return {"reason": draw(_TEXT)}
    if action == "certificate_issued":
        return {"certificate_no": "CERT-1"}
    if action == "decision_altered":
        alteration = draw(st.sampled_from(["amended", "withdrawn", "revoked", "cancelled"]))
        return {"alteration": alteration, "requested_by": {"kind": "department", "code": "SUP"},
                "reason": draw(_TEXT)}  # fmt: skip
    if action == "complaint_filed":
        return {"complaint_id": f"T{case.version}", "summary": draw(_TEXT)}
    if action == "complaint_resolved":
        complaint = draw(st.sampled_from(sorted(case.open_complaints)))
        return {"complaint_id": complaint, "outcome": "upheld"}
    if action == "service_rated":
        satisfaction = draw(st.sampled_from(["very_satisfied", "satisfied", "dissatisfied"]))
        source = draw(st.sampled_from(["evaluation_system", "follow_up_call"]))
        return {"satisfaction": satisfaction, "source": source}
    return {}  # clock_resumed, application_withdrawn


@st.composite
def case_histories(
    draw: st.DrawFn,
    case_no: str = "P-1",
    *,
    pack: str = "national",
    items: tuple[str, ...] = ("ITEM-1",),
    max_events: int = 14,
    start: st.SearchStrategy[dt.date] | None = None,
) -> list[Command]:
    """The commands of one case that the lifecycle accepts, in order, accepted (when it
    is) under ``pack`` with an item from ``items``; the first day near a holiday."""
    day = draw(start if start is not None else dates_near_holidays())
    moment = dt.datetime.combine(day, dt.time(9), tzinfo=CST)
    received = Command.model_validate(
        {
            "case_no": case_no,
            "command_id": f"{case_no}-1",
            "at": moment.isoformat(),
            "actor": draw(STAFF),
            "event": {"type": "received", "channel": "window", "applicant": "APP"},
        }
    )
    case = Case.start(received, recorded_at=moment)
    commands = [received]
    for n in range(2, draw(st.integers(1, max_events)) + 1):
        allowed = case.allowed_actions()
        if not allowed:
            break
        action = draw(st.sampled_from(allowed))
        moment += dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 5)))
        command = Command.model_validate(
            {
                "case_no": case_no,
                "command_id": f"{case_no}-{n}",
                "at": moment.isoformat(),
                "actor": draw(STAFF),
                "event": {"type": action, **event_body(draw, action, case, list(items), pack)},
            }
        )
        case.record(command, recorded_at=moment)
        commands.append(command)
    return commands
