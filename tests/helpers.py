"""Small builders for commands in tests."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import settings

from caseledger import CaseLedger, Command

CST = dt.timezone(dt.timedelta(hours=8))
WINDOW_A = {"person": "A008", "role": "window_a", "department": "市市场监督管理局", "window": "W08"}
CHIEF = {"person": "C008", "role": "chief_representative", "department": "市市场监督管理局"}
HEAD = {"person": "H01", "role": "department_head", "department": "市市场监督管理局"}


DEFAULT_EXAMPLES = 60  # the "default" profile's max_examples (tests/conftest.py)


def examples(under_default: int) -> int:
    """How many examples a property test runs: ``under_default`` under the default profile,
    scaled with the profile loaded (``HYPOTHESIS_PROFILE=deep`` runs about 33 times as many)."""
    return max(1, under_default * settings.default.max_examples // DEFAULT_EXAMPLES)


def at(day: int, hour: int = 9, minute: int = 0, month: int = 10) -> str:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CST).isoformat()


def command(
    case_no: str,
    n: int,
    event: dict[str, Any],
    when: str,
    actor: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "case_no": case_no,
        "command_id": f"{case_no}-{n}",
        "at": when,
        "actor": actor or WINDOW_A,
        "event": event,
    }


RECEIVED = {"type": "received", "channel": "window", "applicant": "APP-1"}
ACCEPTED = {
    "type": "accepted",
    "item_code": "QZ-SCJG-0101",
    "case_kind": "promised",
    "rule_pack": "national",
}
APPROVED = {"type": "approved", "decision_no": "决定〔2026〕1号"}


def accepted_case(ledger: CaseLedger, case_no: str = "QZ-1") -> None:
    """Record a case received and accepted on 2026-10-12."""
    ledger.record(command(case_no, 1, RECEIVED, at(12)))
    ledger.record(command(case_no, 2, ACCEPTED, at(12, 9, 30)))


def snapshot(ledger: CaseLedger) -> list[tuple[str, int, str, bytes]]:
    """Every stored row, to show that a refused command changed nothing."""
    return [
        (str(n.originator_id), n.originator_version, n.topic, n.state)
        for n in ledger.store.notifications()
    ]


def as_cases(histories: Sequence[list[Command]]) -> list[Command]:
    """Generated case histories as the cases P-0, P-1, ... (their commands renumbered)."""
    return [
        c.model_copy(update={"case_no": f"P-{n}", "command_id": f"P-{n}-{i}"})
        for n, history in enumerate(histories)
        for i, c in enumerate(history, start=1)
    ]


def write_pack(root: Path, name: str, body: str, extends: str, header: str) -> Path:
    """A pack folder ``root/name`` whose pack.toml is ``header`` (with ``{name}`` and
    ``{extends}``; an empty ``extends`` is left out) and ``body``."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    head = header.format(name=name, extends=extends)
    if not extends:
        head = head.replace('extends = ""\n', "")
    (folder / "pack.toml").write_text(head + textwrap.dedent(body), encoding="utf-8")
    return folder
