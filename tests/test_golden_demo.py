"""The demo ledger's stored events and its ``status --json`` accounts are pinned byte for byte:
a refactor that changes what is stored or how a case is judged fails here.

Regenerate only for a deliberate change: ``CASELEDGER_REGENERATE_GOLDEN=1 pytest
tests/test_golden_demo.py``, then review the diff.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import orjson
import pytest

from caseledger import CaseLedger
from caseledger.demo import DEMO_LAST_DAY, demo_month

GOLDEN = Path(__file__).parent / "golden" / "demo"
CST = dt.timezone(dt.timedelta(hours=8))
RECORDED_AT = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
DAYS = [dt.date(2026, 10, 20), dt.date(2026, 11, 5), DEMO_LAST_DAY, dt.date(2026, 12, 31)]


@pytest.fixture(scope="module")
def demo_ledger() -> CaseLedger:
    ledger = CaseLedger("sqlite:///:memory:", clock=lambda: RECORDED_AT)
    ledger.record_batch(demo_month(), source="demo")
    return ledger


def _compare(name: str, lines: list[bytes]) -> None:
    path = GOLDEN / name
    text = b"".join(line + b"\n" for line in lines)
    if os.environ.get("CASELEDGER_REGENERATE_GOLDEN") == "1":
        path.write_bytes(text)
    expected = path.read_bytes()
    if text != expected:
        got = text.splitlines()
        want = expected.splitlines()
        first = next((n for n, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
        detail = "" if first is None else f"\nfirst difference, line {first + 1}:\n{got[first]!r}"
        pytest.fail(f"{name} differs ({len(got)} lines, golden {len(want)}){detail}")


def test_the_demo_ledgers_stored_events_are_byte_identical_to_the_golden_file(
    demo_ledger: CaseLedger,
) -> None:
    lines = []
    for n in demo_ledger.store.notifications():
        digest = hashlib.sha256(n.state).hexdigest()
        lines.append(orjson.dumps([n.id, n.originator_id, n.originator_version, n.topic, digest]))
    assert len(lines) > 700
    _compare("stored.jsonl", lines)


def test_the_demo_ledgers_status_json_is_byte_identical_to_the_golden_file(
    demo_ledger: CaseLedger,
) -> None:
    lines = []
    for day in DAYS:
        moment = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CST)
        for case_no in demo_ledger.case_numbers():
            try:
                account = demo_ledger.evaluate(case_no, moment).as_dict()
            except LookupError:  # received after that day
                continue
            lines.append(orjson.dumps(account))
    assert len(lines) > 400
    _compare("status.jsonl", lines)


def test_no_step_of_the_demo_cites_one_provision_twice() -> None:
    """A step cites each provision once (two rules quoting 第四十二条第一款 print it once); the
    golden file above is what the judgement prints today, so this holds for the code too."""
    twice = []
    for line in (GOLDEN / "status.jsonl").read_bytes().splitlines():
        account = orjson.loads(line)
        for step in account["clock"]["steps"]:
            provisions = [
                ref.split("：")[0].split("（")[0].strip()
                for ref in step["reference"].split("; ")
                if ref
            ]
            if len(provisions) != len(set(provisions)):
                twice.append((account["case_no"], step["what"], step["reference"]))
    assert twice == []
