"""A hypothesis strategy for valid case histories: a random walk through the lifecycle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from caseledger import Case, Command
from caseledger.domain.vocabulary import Stage

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)
STAFF = st.sampled_from(
    [
        {"person": "A1", "role": "window_a", "department": "D1", "window": "W1"},
        {"person": "B1", "role": "window_b", "department": "D1", "window": "W1"},
        {"person": "C1", "role": "chief_representative", "department": "D1"},
    ]
)
DOCS = ["身份证明", "平面图", "章程", "委托书"]
TEXT = st.sampled_from(["情况复杂", "材料不全", "专家评审", "申请人要求"])


def _body(draw: st.DrawFn, action: str, case: Case) -> dict[str, Any]:
    if action == "accepted":
        kind = draw(st.sampled_from(["immediate", "promised", "joint", "reported"]))
        return {"item_code": "ITEM-1", "case_kind": kind, "rule_pack": "national"}
    if action == "documents_requested":
        missing = draw(st.lists(st.sampled_from(DOCS), min_size=1, max_size=3, unique=True))
        mode = draw(st.sampled_from(["correction", "tolerated"]))
        return {
            "mode": mode,
            "missing": [{"name": m} for m in missing],
            "notice_date": "2026-03-02",
        }
    if action == "documents_supplemented":
        docs = draw(st.lists(st.sampled_from(case.outstanding_documents), min_size=1, unique=True))
        return {"documents": docs}
    if action == "transferred":
        code = draw(st.sampled_from(["W2", "W3", "D2"]))
        return {"to": {"kind": "window", "code": code}, "reason": draw(TEXT)}
    if action == "clock_suspended":
        reason = draw(st.sampled_from(["hearing", "testing", "expert_review", "appraisal"]))
        notice = draw(st.none() | st.just({"number": "N1", "date": "2026-03-03"}))
        return {"reason": reason, "notice": notice}
    if action == "extended":
        approver = {"person": "H1", "role": "department_head", "department": "D1"}
        days = draw(st.integers(1, 15))
        return {"working_days": days, "approver": approver, "reason": draw(TEXT)}
    if action == "stage_completed":
        return {"stage": list(Stage)[len(case.stages_completed)].value}
    if action == "escalated":
        target = draw(st.sampled_from(["higher_level", "supervision_office"]))
        return {"to": target, "reason": draw(TEXT)}
    if action in ("approved", "denied"):
        return {"decision_no": "D-1", **({"reason": "不符合条件"} if action == "denied" else {})}
    if action in ("not_accepted",):
        return {"reason": draw(TEXT)}
    if action == "certificate_issued":
        return {"certificate_no": "CERT-1"}
    if action == "decision_altered":
        alteration = draw(st.sampled_from(["amended", "withdrawn", "revoked", "cancelled"]))
        return {
            "alteration": alteration,
            "requested_by": {"kind": "department", "code": "SUP"},
            "reason": draw(TEXT),
        }
    if action == "complaint_filed":
        return {"complaint_id": f"T{case.version}", "summary": draw(TEXT)}
    if action == "complaint_resolved":
        complaint = draw(st.sampled_from(sorted(case.open_complaints)))
        return {"complaint_id": complaint, "outcome": "upheld"}
    return {}  # clock_resumed, application_withdrawn


@st.composite
def case_histories(draw: st.DrawFn, case_no: str = "P-1", max_events: int = 14) -> list[Command]:
    """Commands of one case that the lifecycle accepts, in order."""
    moment = START
    received = Command.model_validate(
        {
            "case_no": case_no,
            "command_id": f"{case_no}-1",
            "at": moment.isoformat(),
            "actor": draw(STAFF),
            "event": {"type": "received", "channel": "window", "applicant": "APP"},
        }
    )
    case = Case.start(received, recorded_at=START)
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
                "event": {"type": action, **_body(draw, action, case)},
            }
        )
        case.record(command, recorded_at=START)
        commands.append(command)
    return commands
