"""Consistency checks of a pack against the packs it extends, run when packs are loaded.

Every problem names the file and the field, and says how to fix it. What is checked:
versions of one rule that overlap; a rule that exists in a parent pack but is not marked
``override = true``, and an ``override`` of a rule that does not exist; clock keys that
name no event; case kinds that name no limit; transfers (``supersedes``) of scopes that do
not exist; and two scopes that both claim the same decision on the same day, or two sanction
rules that give the same sanction to the same findings (their ``acts`` and ``limits`` meet)
on the same day (no silent pick). Parameters: a ``"${name}"`` no pack of the lineage declares, a
parameter declared but never used, a declaration without a description, and a pack that
names an inherited parameter without giving its value.

Dates are checked as the pack's parameter values make them: a version still waiting for a
value is checked by the pack that gives it (which also re-checks the parameterised rules of
the packs it extends, since its value may make them overlap).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise

from caseledger.domain.vocabulary import DocumentRequestMode, SuspensionReason
from caseledger.errors import PackProblem
from caseledger.rules.model import (
    PARAMETER_REFERENCE,
    ItemVersion,
    SanctionRule,
    ScopeRule,
    Version,
)
from caseledger.rules.pack import RulePack, version_span

__all__ = ["check_pack"]

_SECTIONS = (
    "limits", "case_kinds", "clock", "thresholds", "promise_cuts", "items", "scopes", "sanctions"
)  # fmt: skip
_CLOCK_DETAILS = {
    "clock_suspended": {r.value for r in SuspensionReason},
    "documents_requested": {m.value for m in DocumentRequestMode},
}
_FAR = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class _Span:
    key: str
    index: int
    rule: Version
    first: dt.date
    last: dt.date

    def overlaps(self, other: _Span) -> bool:
        return self.first <= other.last and other.first <= self.last


def check_pack(pack: RulePack) -> list[PackProblem]:
    """Every consistency problem of ``pack`` (its own data, judged with its lineage)."""
    problems: list[PackProblem] = []
    problems += _parameters(pack)
    problems += _versions(pack)
    problems += _overrides(pack)
    problems += _handbacks(pack)
    problems += _clock_keys(pack)
    problems += _case_kinds(pack)
    problems += _scopes(pack)
    problems += _sanctions(pack)
    problems += _calendar(pack)
    problems += _promises(pack)
    return problems


def _promises(pack: RulePack) -> list[PackProblem]:
    """A promised limit may not exceed the statutory limit it promises to beat, nor cut it
    by more than the largest cut of the pack (or its lineage) on any day of its version:
    its first day, and each day a cap of the lineage comes into force while it runs."""
    problems = []
    caps = sorted(
        {
            rule.starts
            for layer in pack.lineage()
            for rule in pack.resolved_rules(layer, "promise_cuts").get("largest", [])
        }
    )
    for code, versions in pack.data.items.items():
        for index, version in enumerate(versions):
            span = _own_span(pack, versions, index)
            if version.promised_limit is None or span is None:
                continue
            start, last = span
            days_to_check = [start] + [
                cap for cap in caps if start < cap and (last is None or cap <= last)
            ]
            where = f"items.{code}[{index}].promised_limit"
            for day in days_to_check:
                problem = _promise_problem(pack, code, version, day)
                if problem is not None:
                    problems.append(_problem(pack, where, *problem))
                    break
    return problems


def _promise_problem(
    pack: RulePack, code: str, version: ItemVersion, day: dt.date
) -> tuple[str, str] | None:
    """What is wrong with the item's promise on ``day`` (message, fix), if anything."""
    statutory = pack.statutory_limit(code, version.case_kind, day)
    if statutory is None or version.promised_limit is None:
        return None
    promised, days = version.promised_limit, statutory[0]
    if promised > days:
        return (
            f"{promised} working days is more than the statutory {days} of a "
            f"{version.case_kind.value} case",
            "promise at most the statutory limit",
        )
    largest = pack.largest_promise_cut(day)
    if largest is None or not days or 1 - promised / days <= largest.rule.share + 1e-9:
        return None
    return (
        f"{promised} of the statutory {days} working days cuts the limit by "
        f"{1 - promised / days:.0%}, more than the largest cut of {largest.rule.share:.0%} "
        f"in force from {largest.rule.starts} ({largest.pack}: {largest.reference})",
        f"promise at least {math.ceil(days * (1 - largest.rule.share) - 1e-9)} working days, "
        f"or end this version (to) before {largest.rule.starts}",
    )


def _own_span(
    pack: RulePack, versions: Sequence[Version], index: int
) -> tuple[dt.date, dt.date | None] | None:
    """First and last day (None: open-ended) of ``versions[index]`` as ``pack`` wrote them,
    as :func:`version_span` counts them (it ends on its ``to``, or the day before the next
    version begins), with parameter dates resolved; None while its start has no value."""
    starts = [pack.resolve_date(v.from_) for v in versions]
    first = starts[index]
    if first is None:
        return None
    ends = [day - dt.timedelta(days=1) for day in starts if day and day > first]
    to = versions[index].to
    if to is not None and (last := pack.resolve_date(to)) is not None:
        ends.append(last)
    return first, min(ends) if ends else None


def _problem(pack: RulePack, where: str, message: str, fix: str) -> PackProblem:
    return PackProblem(pack.file, where, message, fix)


def _own(pack: RulePack, section: str) -> Mapping[str, list[Version]]:
    """The rules of ``pack`` as written (a parameterised date stays ``"${name}"``)."""
    rules: Mapping[str, list[Version]] = getattr(pack.data, section)
    return rules


def _parameters(pack: RulePack) -> list[PackProblem]:
    problems = []
    ancestors = list(pack.lineage())[1:]
    inherited = {name: a for a in reversed(ancestors) for name in a.data.parameters}
    declared = set(inherited) | set(pack.data.parameters)
    used: set[str] = set()
    for section in _SECTIONS:
        for key, versions in _own(pack, section).items():
            for index, version in enumerate(versions):
                for label, point in version.parameter_references():
                    match = PARAMETER_REFERENCE.match(point)
                    name = match["name"] if match else point
                    used.add(name)
                    if name not in declared:
                        known = ", ".join(sorted(declared)) or "(none declared)"
                        problems.append(
                            _problem(
                                pack,
                                f"{section}.{key}[{index}].{label}",
                                f"names parameter {name!r}, which no pack of the lineage declares",
                                f"declare it under [parameters.{name}] with a description and "
                                f"a reference, or check its spelling; parameters: {known}",
                            )
                        )
    for name, parameter in pack.data.parameters.items():
        where = f"parameters.{name}"
        if name in inherited:
            owner = inherited[name]
            if parameter.value is None:
                problems.append(
                    _problem(
                        pack,
                        where,
                        f"names the parameter of pack {owner.name!r} but gives no value",
                        "add value = YYYY-MM-DD with the reference of its source, or remove "
                        "the table",
                    )
                )
            if parameter.kind != owner.data.parameters[name].kind:
                problems.append(
                    _problem(
                        pack,
                        f"{where}.kind",
                        f"is {parameter.kind!r}, but pack {owner.name!r} declares it "
                        f"{owner.data.parameters[name].kind!r}",
                        f"use kind = {owner.data.parameters[name].kind!r}, or leave kind out",
                    )
                )
            continue
        if not parameter.description:
            problems.append(
                _problem(
                    pack,
                    f"{where}.description",
                    "declares a parameter without saying what it is",
                    'add description = "..." (what the date is, and how to find it)',
                )
            )
        if name not in used:
            problems.append(
                _problem(
                    pack,
                    where,
                    "is declared but no rule of this pack uses it",
                    f'use it as "${{{name}}}" in a version\'s from or to, or remove '
                    f"[parameters.{name}]",
                )
            )
    return problems


def _versions(pack: RulePack) -> list[PackProblem]:
    """Versions of one rule that overlap, or that end before they start, as this pack's
    parameter values date them: its own rules, and the parameterised rules of the packs it
    extends."""
    problems = []
    for layer in pack.lineage():
        mine = layer is pack
        for section in _SECTIONS:
            written = _own(layer, section)
            resolved = pack.resolved_rules(layer, section)
            for key, versions in resolved.items():
                if not mine and not any(v.parameter_references() for v in written[key]):
                    continue
                whose = "" if mine else f" (rules of pack {layer.name!r}, dated by this pack)"
                ordered = sorted(versions, key=lambda v: v.starts)
                for version in ordered:
                    last = version.ends
                    if last is not None and last < version.starts:
                        problems.append(
                            _problem(
                                pack,
                                f"{section}.{key}",
                                f"a version ends on {last}, before it starts on "
                                f"{version.starts}{whose}",
                                "check the parameter values and the dates of 'from' and 'to'",
                            )
                        )
                for a, b in pairwise(ordered):
                    a_last = a.ends
                    if a.starts == b.starts or (a_last is not None and a_last >= b.starts):
                        problems.append(
                            _problem(
                                pack,
                                f"{section}.{key}",
                                f"two versions are both in force on {b.starts}{whose}",
                                "give each version its own 'from' date, and end a version "
                                "before the next one starts",
                            )
                        )
    return problems


def _overrides(pack: RulePack) -> list[PackProblem]:
    if pack.parent is None:
        return [
            _problem(
                pack, f"{section}.{key}", "marked override but the pack extends nothing",
                "remove override = true, or add 'extends' to [pack]",
            )
            for section in _SECTIONS
            for key, versions in _own(pack, section).items()
            if any(v.override for v in versions)
        ]  # fmt: skip
    problems = []
    ancestors = list(pack.parent.lineage())
    for section in _SECTIONS:
        for key, versions in _own(pack, section).items():
            owners = [a.name for a in ancestors if key in _own(a, section)]
            flagged = [v.override for v in versions]
            if owners and not all(flagged):
                problems.append(
                    _problem(
                        pack,
                        f"{section}.{key}",
                        f"replaces the rule of pack {owners[0]!r} without saying so",
                        "add override = true to each version, or choose another key",
                    )
                )
            elif not owners and any(flagged):
                chain = ", ".join(a.name for a in ancestors)
                problems.append(
                    _problem(
                        pack,
                        f"{section}.{key}",
                        f"overrides a rule that does not exist in {chain}",
                        "check the key's spelling against `caseledger packs show "
                        f"{ancestors[0].name}`, or remove override = true",
                    )
                )
    return problems


def _handbacks(pack: RulePack) -> list[PackProblem]:
    """An override of a scope that takes power over from others (``supersedes``) must say
    whether it keeps the transfer: left out, the power would silently go back."""
    if pack.parent is None:
        return []
    problems = []
    inherited = [span for span in _spans(pack.parent, "scopes") if isinstance(span.rule, ScopeRule)]
    for key, versions in pack.data.scopes.items():
        for index, version in enumerate(versions):
            span = _own_span(pack, versions, index)
            if span is None or not version.override or "supersedes" in version.model_fields_set:
                continue
            mine = _Span(key, index, version, span[0], span[1] or _FAR)
            taken = sorted(
                {
                    target
                    for span in inherited
                    if span.key == key and span.overlaps(mine)
                    for target in span.rule.supersedes  # type: ignore[attr-defined]
                }
            )
            if taken:
                problems.append(
                    _problem(
                        pack,
                        f"scopes.{key}[{index}].supersedes",
                        f"overrides a scope that supersedes {', '.join(taken)}, without "
                        "saying whether it still does",
                        f"repeat supersedes = [{', '.join(map(repr, taken))}] to keep the "
                        "transfer, or write supersedes = [] to hand the power back",
                    )
                )
    return problems


def _clock_keys(pack: RulePack) -> list[PackProblem]:
    problems = []
    for key in pack.data.clock:
        event, _, detail = key.partition(".")
        known = _CLOCK_DETAILS.get(event)
        if known is None or detail not in known:
            choices = ", ".join(f"{e}.<{'|'.join(sorted(d))}>" for e, d in _CLOCK_DETAILS.items())
            problems.append(
                _problem(pack, f"clock.{key}", "names no event and reason", f"use {choices}")
            )
    return problems


def _case_kinds(pack: RulePack) -> list[PackProblem]:
    problems = []
    limit_names = set(pack.limits.names())
    for kind, versions in pack.data.case_kinds.items():
        for index, version in enumerate(versions):
            for name in filter(None, (version.limit, version.extension)):
                if name not in limit_names:
                    problems.append(
                        _problem(
                            pack,
                            f"case_kinds.{kind.value}[{index}]",
                            f"names limit {name!r}, which no pack of the lineage defines",
                            f"use one of: {', '.join(sorted(limit_names)) or '(none)'}",
                        )
                    )
    return problems


def _spans(pack: RulePack, section: str) -> list[_Span]:
    """Every version of every key of the lineage with the days it really applies: a
    parent's version applies on the days no version of a child's is in force (before the
    child's rule starts, and in any gap after one of its versions ends), as ``resolve``
    answers."""
    spans: list[_Span] = []
    covered: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for layer in pack.lineage():
        own: dict[str, list[tuple[dt.date, dt.date]]] = {}
        for key, versions in pack.resolved_rules(layer, section).items():
            ordered = sorted(versions, key=lambda v: v.starts)
            for index in range(len(ordered)):
                first, last = version_span(ordered, index)
                last = last or _FAR
                own.setdefault(key, []).append((first, last))
                for free_first, free_last in _uncovered(first, last, covered.get(key, [])):
                    spans.append(_Span(key, index, ordered[index], free_first, free_last))
        for key, intervals in own.items():
            covered[key] = covered.get(key, []) + intervals
    return spans


def _uncovered(
    first: dt.date, last: dt.date, covered: list[tuple[dt.date, dt.date]]
) -> list[tuple[dt.date, dt.date]]:
    """The parts of [first, last] that none of the ``covered`` intervals holds."""
    free = [(first, last)]
    day = dt.timedelta(days=1)
    for c_first, c_last in covered:
        pieces = []
        for f_first, f_last in free:
            if c_last < f_first or f_last < c_first:
                pieces.append((f_first, f_last))
                continue
            if f_first < c_first:
                pieces.append((f_first, c_first - day))
            if c_last < f_last:
                pieces.append((c_last + day, f_last))
        free = pieces
    return free


def _scopes(pack: RulePack) -> list[PackProblem]:
    problems = []
    spans = _spans(pack, "scopes")
    keys = {s.key for s in spans}
    takeover: dict[str, dt.date] = {}
    for span in spans:
        assert isinstance(span.rule, ScopeRule)
        for target in span.rule.supersedes:
            if target not in keys:
                problems.append(
                    _problem(
                        pack,
                        f"scopes.{span.key}[{span.index}].supersedes",
                        f"names scope {target!r}, which does not exist",
                        f"use one of: {', '.join(sorted(keys - {span.key}))}",
                    )
                )
            takeover[target] = min(takeover.get(target, span.first), span.first)
    cut = [
        _Span(s.key, s.index, s.rule, s.first, min(s.last, takeover[s.key] - dt.timedelta(days=1)))
        if s.key in takeover
        else s
        for s in spans
    ]
    for a, b in combinations([s for s in cut if s.first <= s.last], 2):
        if a.key == b.key or not a.overlaps(b):
            continue
        ra, rb = a.rule, b.rule
        assert isinstance(ra, ScopeRule) and isinstance(rb, ScopeRule)
        departments = {ra.holder.department, rb.holder.department}
        if "*" in departments or len(departments) == 1:
            continue
        shared = set(ra.decisions) & set(rb.decisions)
        items = _meet(ra, rb)
        kinds = set(ra.case_kinds) & set(rb.case_kinds)
        if shared and items and kinds:
            day = max(a.first, b.first)
            problems.append(
                _problem(
                    pack,
                    f"scopes.{b.key}",
                    f"claims {', '.join(sorted(shared))} on {', '.join(sorted(items))[:80]} for "
                    f"{', '.join(sorted(departments))} together with scopes.{a.key} on {day}",
                    f"end one with 'to', or mark the transfer with supersedes = [\"{a.key}\"]",
                )
            )
    return problems


def _meet(a: ScopeRule, b: ScopeRule) -> set[str]:
    """The items both scopes cover (``*``: every item but those either excepts)."""
    if "*" in a.items and "*" in b.items:
        return {"*"}
    if "*" in a.items:
        return set(b.items) - set(a.except_items)
    if "*" in b.items:
        return set(a.items) - set(b.except_items)
    return set(a.items) & set(b.items)


def _sanctions(pack: RulePack) -> list[PackProblem]:
    problems = []
    spans = _spans(pack, "sanctions")
    for a, b in combinations(spans, 2):
        if a.key == b.key or not a.overlaps(b):
            continue
        ra, rb = a.rule, b.rule
        assert isinstance(ra, SanctionRule) and isinstance(rb, SanctionRule)
        if (ra.violation, ra.sanction) == (rb.violation, rb.sanction) and _meet_findings(ra, rb):
            problems.append(
                _problem(
                    pack,
                    f"sanctions.{b.key}",
                    f"gives the same sanction for the same violation as sanctions.{a.key} "
                    f"on {max(a.first, b.first)}",
                    "keep one rule, or end one with 'to' before the other starts",
                )
            )
    return problems


def _meet_findings(a: SanctionRule, b: SanctionRule) -> bool:
    """Whether some finding is covered by both rules (their acts and missed deadlines meet;
    an empty list covers every one)."""
    acts = not a.acts or not b.acts or bool(set(a.acts) & set(b.acts))
    limits = not a.limits or not b.limits or bool(set(a.limits) & set(b.limits))
    return acts and limits


def _calendar(pack: RulePack) -> list[PackProblem]:
    problems = []
    seen: set[dt.date] = set()
    inherited = {d.date for p in list(pack.lineage())[1:] for d in p.data.calendar.days}
    for index, entry in enumerate(pack.data.calendar.days):
        where = f"calendar.days[{index}]"
        if entry.date in seen:
            problems.append(_problem(pack, where, f"{entry.date} is listed twice", "keep one"))
        seen.add(entry.date)
        if entry.date in inherited and not entry.override:
            problems.append(
                _problem(
                    pack, where, f"{entry.date} is set by the pack it extends",
                    "add override = true",
                )
            )  # fmt: skip
        if entry.date not in inherited and entry.override:
            problems.append(
                _problem(pack, where, f"overrides {entry.date}, which no parent sets",
                         "remove override = true")
            )  # fmt: skip
    return problems
