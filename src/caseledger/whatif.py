"""What-if: recorded cases re-judged under another version of a rule pack, and what changes.

``what_if(store, packs, alternative, as_of)`` judges each case twice at ``as_of``: under the
version it was accepted under (as recorded), and with ``alternative`` put in the place of
the pack of its name (in the case's own pack, or in the lineage of a pack that extends it:
a city's pack rebased on a new national baseline). It reports, case by case, what differs
(deadlines, light, violations, sanctions, points) with the rules whose values differ that
either judgement cites, and a summary (how many cases turn red, points off per
department). Nothing is recorded: a what-if reads the event log as a rebuild does (blocks
of cases, forked workers on an SQLite file) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from caseledger.domain.moments import happened_by
from caseledger.domain.records import is_case_stream
from caseledger.errors import CasesNotFound, UnknownFilterValue
from caseledger.judging.clock import run_clock
from caseledger.judging.evaluation import DEFAULT_PACK, CaseEvaluation, judge, pack_for
from caseledger.judging.facts import Decoder, Fact, facts_of
from caseledger.readmodels.parallel import block_results_in_processes
from caseledger.rules.pack import RulePack
from caseledger.rules.registry import PackRegistry
from caseledger.rules.versions import RuleChange, pack_changes, rebased
from caseledger.store.event_store import CaseStore, LogRow, SpanReader

__all__ = ["OUTCOME_FIELDS", "CaseChange", "WhatIfReport", "outcome_of", "what_if"]

OUTCOME_FIELDS = (
    "light", "deadline", "statutory_deadline", "promised_deadline", "certificate_due",
    "working_days_left", "violations", "sanctions", "points",
)  # fmt: skip
"""What a what-if compares of a case's two judgements."""


def outcome_of(evaluation: CaseEvaluation) -> dict[str, Any]:
    """What a what-if compares of one judgement (see :data:`OUTCOME_FIELDS`)."""
    return _as_outcome(_outcome(evaluation))


Outcome = tuple[Any, ...]
"""The values of :data:`OUTCOME_FIELDS`, in order (what a worker sends back)."""


def _outcome(evaluation: CaseEvaluation) -> Outcome:
    clock = evaluation.clock

    def iso(day: dt.date | None) -> str | None:
        return day.isoformat() if day else None

    return (
        evaluation.light.value,
        iso(clock.deadline),
        iso(clock.statutory_deadline),
        iso(clock.promised_deadline),
        iso(clock.certificate_due),
        clock.working_days_left,
        tuple(f"{f.violation.value} {f.day.isoformat()}" for f in evaluation.findings),
        tuple(
            f"{s.rule}: {s.label}" + (f" (-{s.points})" if s.points else "")
            for s in evaluation.sanctions
        ),
        sum(s.points or 0 for s in evaluation.sanctions),
    )


def _as_outcome(values: Outcome) -> dict[str, Any]:
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in zip(OUTCOME_FIELDS, values, strict=True)
    }


def _cited(evaluation: CaseEvaluation, pack: RulePack) -> set[str]:
    """The references a judgement rests on: its findings, sanctions and clock periods, and
    the limits and threshold its pack gives the case (asked again, so that judging needs no
    explanation steps)."""
    clock = evaluation.clock
    cited = {f.reference for f in evaluation.findings}
    cited |= {s.reference for s in evaluation.sanctions}
    cited |= {p.reference for p in clock.periods if p.reference}
    on = clock.started_on
    if on is not None and clock.item_code is not None and clock.case_kind is not None:
        found = pack.statutory_limit(clock.item_code, clock.case_kind, on)
        references = [r.reference for r in found[1]] if found is not None else []
        for other in (
            pack.promised_limit(clock.item_code, on),
            pack.extension_limit(clock.case_kind, on),
            pack.largest_promise_cut(on),
        ):
            if other is not None:
                references.append(other.reference)
        cited |= set(references)
    threshold = pack.yellow_threshold(clock.as_of)
    if threshold is not None:
        cited.add(threshold.reference)
    return cited


@dataclass(frozen=True)
class CaseChange:
    """One case's two judgements, where they differ."""

    case_no: str
    department: str
    item_code: str | None
    recorded: str
    """``NAME@VERSION`` of the pack version the case was judged under, as recorded."""
    before: dict[str, Any]
    after: dict[str, Any]
    rules: tuple[RuleChange, ...] = ()
    """The rules whose values differ between the two versions that either judgement cites."""

    @property
    def fields(self) -> list[str]:
        return [f for f in OUTCOME_FIELDS if self.before[f] != self.after[f]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_no": self.case_no,
            "department": self.department,
            "item_code": self.item_code,
            "recorded": self.recorded,
            "changed": self.fields,
            "before": {f: self.before[f] for f in self.fields},
            "after": {f: self.after[f] for f in self.fields},
            "rules": [r.as_dict() for r in self.rules],
        }


@dataclass(frozen=True)
class WhatIfReport:
    """What re-judging under ``pack`` changes, at ``as_of``."""

    pack: str
    """``NAME@VERSION`` (content hash) of the pack put in place."""
    content_hash: str
    as_of: dt.datetime
    judged: int
    """How many cases were judged twice (those whose pack rests on the pack replaced)."""
    changes: list[CaseChange]
    lights_before: dict[str, int] = field(default_factory=dict)
    lights_after: dict[str, int] = field(default_factory=dict)
    points_by_department: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Points off before and after, per department that received the cases."""

    @property
    def turned_red(self) -> list[str]:
        return [c.case_no for c in self.changes if c.after["light"] == "red" != c.before["light"]]

    @property
    def no_longer_red(self) -> list[str]:
        return [c.case_no for c in self.changes if c.before["light"] == "red" != c.after["light"]]

    def summary(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "content_hash": self.content_hash,
            "as_of": self.as_of.isoformat(),
            "cases_judged": self.judged,
            "cases_changed": len(self.changes),
            "turned_red": len(self.turned_red),
            "no_longer_red": len(self.no_longer_red),
            "lights_before": dict(sorted(self.lights_before.items())),
            "lights_after": dict(sorted(self.lights_after.items())),
            "points_by_department": {
                d: {"before": b, "after": a, "difference": a - b}
                for d, (b, a) in sorted(self.points_by_department.items())
                if a != b
            },
        }

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "cases": [c.as_dict() for c in self.changes]}


_Judged = tuple[str, str, str | None, str, Outcome, Outcome, tuple[int, ...]] | None
"""What a worker sends back of a case: number, department, item, recorded pack (as
``NAME@VERSION#HASH``), both outcomes and which of the rule changes between its recorded
pack and the one put in place (:func:`pack_changes`, by position) its judgements cite; None:
not judged (filtered out, not yet received, or resting on another pack)."""


@dataclass(frozen=True)
class _Question:
    recorded: PackRegistry
    alternative: PackRegistry
    replacement: RulePack
    as_of: dt.datetime
    default_pack: str
    department: str | None
    item: str | None
    diffs: dict[str, list[RuleChange]] = field(default_factory=dict)
    """The rule changes by recorded pack (``NAME@VERSION#HASH``), each process its own."""

    def changes(self, pack_key: str) -> list[RuleChange]:
        found = self.diffs.get(pack_key)
        if found is None:
            name_version, _, content_hash = pack_key.partition("#")
            was = _pack_of(self.recorded, name_version.partition("@")[0], content_hash)
            now = rebased(was, self.replacement) or was
            found = self.diffs[pack_key] = pack_changes(was, now)
        return found


def what_if(
    store: CaseStore,
    packs: PackRegistry,
    alternative: RulePack,
    as_of: dt.datetime,
    *,
    cases: Iterable[str] | None = None,
    department: str | None = None,
    item: str | None = None,
    default_pack: str = DEFAULT_PACK,
    label: str | None = None,
    workers: int | None = None,
) -> WhatIfReport:
    """Re-judge the recorded cases (``cases``; every case if None) under ``alternative``,
    and compare with their judgement under the versions they were accepted under.
    ``packs``: the registry judging as recorded (with the ledger's held versions)."""
    packs.prepare()
    recorded = packs.judging(judge_under="recorded")
    changed = packs.judging(pack=alternative, label=label)
    position = store.log_head()
    numbers = [n for n in store.stream_numbers(position) if is_case_stream(n)]
    if cases is not None:
        wanted = list(dict.fromkeys(cases))
        known = set(numbers)
        missing = [c for c in wanted if c not in known]
        if missing:
            raise CasesNotFound(missing, numbers)
        chosen = set(wanted)
        numbers = [n for n in numbers if n in chosen]
    question = _Question(recorded, changed, alternative, as_of, default_pack, department, item)
    reader = store.span_reader()
    judge = functools.partial(_judge_block, reader=reader, upto=position, question=question,
                              decode=store.decoder)  # fmt: skip
    seen: tuple[set[str], set[str]] = (set(), set())
    results: list[_Judged] = []
    with (
        reader,
        block_results_in_processes(
            judge,
            numbers,
            workers if reader.forkable else 1,
            finish=reader.close,
            prepare=reader.forking,
        ) as judged,
    ):
        for found in judged:
            results.append(found[1])
            seen[0].add(found[0][0])
            if found[0][1]:
                seen[1].add(found[0][1])
    for option, value, known_values in (
        ("--department", department, seen[0]),
        ("--item", item, seen[1]),
    ):
        if value is not None and value not in known_values:
            raise UnknownFilterValue(option, value, known_values)
    return _report(results, question, label)


def _report(results: Sequence[_Judged], question: _Question, label: str | None) -> WhatIfReport:
    lights_before: dict[str, int] = {}
    lights_after: dict[str, int] = {}
    points: dict[str, tuple[int, int]] = {}
    changes: list[CaseChange] = []
    judged = 0
    for result in results:
        if result is None:
            continue
        judged += 1
        case_no, department, item_code, pack_key, before, after, cited = result
        lights_before[before[0]] = lights_before.get(before[0], 0) + 1
        lights_after[after[0]] = lights_after.get(after[0], 0) + 1
        old, new = points.get(department, (0, 0))
        points[department] = (old + before[-1], new + after[-1])
        if before == after:
            continue
        found = question.changes(pack_key)
        rules = tuple(found[index] for index in cited)
        recorded = pack_key.partition("#")[0]
        changes.append(
            CaseChange(case_no, department, item_code, recorded, _as_outcome(before),
                       _as_outcome(after), rules)
        )  # fmt: skip
    alternative = question.replacement
    return WhatIfReport(
        label or f"{alternative.name}@{alternative.version}",
        alternative.content_hash,
        question.as_of,
        judged,
        changes,
        lights_before,
        lights_after,
        points,
    )


def _is_cited(change: RuleChange, cited: set[str]) -> bool:
    """Whether a judgement cites ``change``'s rule (a step cites ``pack: reference``, several
    joined with ``; ``)."""
    return any(reference in text for reference in change.references for text in cited)


def _pack_of(packs: PackRegistry, name: str, content_hash: str) -> RulePack:
    if content_hash == "None":
        return packs.get(name)
    return packs.recorded(name, content_hash)


def _judge_block(
    numbers: Sequence[str],
    *,
    reader: SpanReader,
    upto: int,
    question: _Question,
    decode: Decoder,
) -> list[tuple[tuple[str, str | None], _Judged]]:
    stored: dict[str, list[LogRow]] = {}
    for row in reader(numbers[0], numbers[-1], upto):
        stored.setdefault(row[1], []).append(row)
    out = []
    for case_no in numbers:
        rows = stored.get(case_no, [])
        facts = facts_of(case_no, [(r[2], r[3], r[4]) for r in rows], decode)
        out.append(_judge_case(case_no, facts, question))
    return out


def _judge_case(
    case_no: str, facts: list[Fact], question: _Question
) -> tuple[tuple[str, str | None], _Judged]:
    first = facts[0]
    department = first.department
    accepted = next((f for f in facts if f.type == "accepted"), None)
    item_code = accepted.get("item_code") if accepted else first.get("item_code")
    key = (department, item_code)
    if question.department is not None and department != question.department:
        return key, None
    if question.item is not None and item_code != question.item:
        return key, None
    known = list(happened_by(facts, question.as_of))
    if not known:  # received after as_of
        return key, None
    recorded_pack = pack_for(known, question.recorded, question.default_pack)
    replaced = question.replacement.name
    if all(layer.name != replaced for layer in recorded_pack.lineage()):
        return key, None
    alternative_pack = pack_for(known, question.alternative, question.default_pack)
    as_of = question.as_of
    before = judge(case_no, known, recorded_pack,
                   run_clock(known, recorded_pack, as_of, trace=False), as_of)  # fmt: skip
    after = judge(case_no, known, alternative_pack,
                  run_clock(known, alternative_pack, as_of, trace=False), as_of)  # fmt: skip
    was, now = _outcome(before), _outcome(after)
    acceptance = next((f for f in known if f.type == "accepted"), None)
    content_hash = acceptance.get("rule_pack_hash") if acceptance else None
    pack_key = f"{recorded_pack.name}@{recorded_pack.version}#{content_hash}"
    cited: tuple[int, ...] = ()
    if was != now:
        references = _cited(before, recorded_pack) | _cited(after, alternative_pack)
        found = question.changes(pack_key)
        cited = tuple(i for i, rule in enumerate(found) if _is_cited(rule, references))
    return key, (case_no, department, item_code, pack_key, was, now, cited)
