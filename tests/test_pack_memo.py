"""A rule pack's answers are memoised by one bounded mechanism, and stay the same answers."""

from __future__ import annotations

import datetime as dt

import pytest

from caseledger import CaseKind, PackRegistry
from caseledger.rules import Decision, Violation
from caseledger.rules import pack as pack_module
from caseledger.rules.pack import MEMO_SIZE, Memo

D = dt.date


def test_a_memo_computes_each_answer_once() -> None:
    asked: list[int] = []

    def square(n: int) -> int:
        asked.append(n)
        return n * n

    memo: Memo[int, int] = Memo(square)
    assert [memo[3], memo[3], memo[4], memo[3]] == [9, 9, 16, 9]
    assert asked == [3, 4]


def test_a_memo_keeps_no_more_answers_than_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pack_module, "MEMO_SIZE", 2)
    asked: list[int] = []
    memo: Memo[int, int] = Memo(lambda n: asked.append(n) or -n)
    assert [memo[n] for n in (1, 2, 3, 3, 1)] == [-1, -2, -3, -3, -1]
    assert len(memo) == 2 and asked == [1, 2, 3, 3]  # past the bound: computed each time
    assert MEMO_SIZE == 100_000


def test_every_question_of_a_pack_is_answered_alike_past_its_memo_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answers() -> list[object]:
        pack = PackRegistry.discover().get("example_district")
        chief = ("section_chief", "区市场监督管理局", None)
        found: list[object] = []
        for day in (D(2026, 6, 30), D(2026, 7, 1), D(2026, 6, 30), D(2026, 7, 1)):
            found += [
                pack.statutory_limit("EX-SCJG-0001", CaseKind.PROMISED, day),
                pack.extension_limit(CaseKind.PROMISED, day),
                [s.key for s in pack.scopes_on(day)],
                pack.authorising_scope(
                    chief, Decision.DECIDE, "EX-SCJG-0001", CaseKind.PROMISED, day
                ),
                [r.key for r in pack.sanction_rules(Violation.OVERTIME, day)],
                pack.item("EX-SCJG-0001", day),
            ]
        return found

    kept = answers()
    monkeypatch.setattr(pack_module, "MEMO_SIZE", 0)
    assert answers() == kept


def test_answers_given_as_lists_are_new_lists_each_time() -> None:
    pack = PackRegistry.discover().get("national")
    day = D(2026, 3, 2)
    first = pack.statutory_limit("ANY-1", CaseKind.PROMISED, day)
    assert first is not None
    first[1].clear()
    again = pack.statutory_limit("ANY-1", CaseKind.PROMISED, day)
    assert again is not None and again[1]
    scopes = pack.scopes_on(day)
    scopes.clear()
    assert pack.scopes_on(day)
    rules = pack.sanction_rules(Violation.OVERTIME, day)
    rules.clear()
    assert pack.sanction_rules(Violation.OVERTIME, day) == pack.sanction_rules(
        Violation.OVERTIME, day
    )
